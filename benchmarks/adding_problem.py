"""The adding problem at T=200: training steps each cell needs to reach test MSE < 0.01.

Predicting the mean scores about 0.167. Batch 64, 64 units, Adam 1e-2 with gradient
clipping; test MSE on 1000 fresh sequences every 100 steps.

    .venv/bin/python benchmarks/adding_problem.py [--max-steps 3000] [--cells gru bilinear ...]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from zoo.recipes.adding import train_adding  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--max-steps", type=int, default=3000)
    parser.add_argument("--cells", nargs="+",
                        default=["peephole_lstm", "gru", "elman", "bilinear", "gated_bilinear"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for cell in args.cells:
        result = train_adding(cell, length=args.length, max_steps=args.max_steps, seed=args.seed, verbose=True)
        verdict = f"solved in {result['steps']} steps" if result["solved"] else f"not solved in {result['steps']} steps"
        print(f"== {cell}: {verdict}, test MSE {result['test_mse']:.4f}, {result['seconds']:.0f} s\n", flush=True)


if __name__ == "__main__":
    main()
