"""Variable binding (seed 004, section 5.1.2): test accuracy of every cell, one run.

A sequence shows `--pairs` key/value pairs of `--symbols` symbols, then a query key; the
model names the value bound to it (chance 1 / symbols). `<cell>_classifier` with
`--units` units, Adam 3e-3, batch 64, fresh batches every step; test accuracy on 1000
fresh sequences every 100 steps; solved = accuracy >= 0.99.

    .venv/bin/python benchmarks/variable_binding.py [--pairs 4] [--symbols 8] [--max-steps 5000]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from zoo.recipes.binding import train_binding  # noqa: E402

CELLS = ("elman", "gru", "peephole_lstm", "bilinear", "gated_bilinear")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--symbols", type=int, default=8)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--max-steps", type=int, default=5000)
    parser.add_argument("--cells", nargs="+", default=list(CELLS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows = []
    for cell in args.cells:
        r = train_binding(cell, pairs=args.pairs, symbols=args.symbols, units=args.units,
                          max_steps=args.max_steps, seed=args.seed)
        verdict = f"solved in {r['steps']} steps" if r["solved"] else f"not solved in {r['steps']} steps"
        print(f"== {cell}: {verdict}, test accuracy {r['accuracy']:.3f} "
              f"(chance {r['chance']:.3f}), {r['parameters']} parameters, {r['seconds']:.0f} s",
              flush=True)
        rows.append(r)
    print("\n| cell | parameters | result | test accuracy | time |\n|---|---|---|---|---|")
    for r in rows:
        result = f"solved in {r['steps']} steps" if r["solved"] else f"not solved in {r['steps']}"
        print(f"| {r['cell']} | {r['parameters']} | {result} | {r['accuracy']:.3f} | "
              f"{r['seconds']:.0f} s |")


if __name__ == "__main__":
    main()
