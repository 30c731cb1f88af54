"""Polyphonic music on the Bach chorales: held-out NLL per time step, and rank as regulariser.

Every model predicts the next quarter-note frame of the 88-key piano roll, key by key
(`zoo.models.music`); the score is the negative log-likelihood per time step in nats,
summed over keys, on the test chorales (lower is better). Models train with Adam (batches
of 8 chorales of similar length) on the training chorales and keep the epoch with the
best validation NLL (patience 20). Recurrent models get
the units that bring them nearest a common parameter budget (`--budget`, default: a GRU
with 64 units), so the comparison is at matched size. Then the rank sweep (seed `004_*`,
section 5.2): a bilinear cell with a fixed hidden size and the CP rank going 1, 2, 4, ...
up to the full tensor, held-out NLL against rank.

    .venv/bin/python benchmarks/music.py [--epochs 150] [--ranks 1 2 4 8 16 32] [--seed 0]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

import zoo  # noqa: E402
from zoo.data import load_chorales  # noqa: E402
from zoo.models.music import independent_notes_nll, nll_per_timestep  # noqa: E402
from zoo.plots import plot_rank_sweep  # noqa: E402
from zoo.recipes.music import fit_music  # noqa: E402

CELLS = ("elman", "gru", "peephole_lstm", "bilinear", "gated_bilinear")


def fit(model, data, epochs, seed, learning_rate):
    return fit_music(model, data, epochs, seed, learning_rate)[0]


def units_for(cell, budget, cell_options=None):
    """The units whose music_rnn has the parameter count nearest `budget`."""
    best = None
    for units in range(8, 257, 4):
        count = zoo.get("music_rnn", cell=cell, units=units,
                        cell_options=cell_options).count_params()
        if best is None or abs(count - budget) < abs(best[1] - budget):
            best = (units, count)
        if count > budget:
            break
    return best[0]


def score(model, data):
    return {part: nll_per_timestep(model, *data[part]) for part in ("valid", "test")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--budget", type=int, default=None, help="parameters per model")
    parser.add_argument("--cells", nargs="+", default=list(CELLS))
    parser.add_argument("--rank-units", type=int, default=32)
    parser.add_argument("--ranks", nargs="+", type=int, default=[1, 2, 4, 8, 16, 32])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sweep-only", action="store_true", help="run only the rank sweep")
    parser.add_argument("--plot", default=None, help="write the rank sweep as a PNG here")
    args = parser.parse_args(argv)
    chorales = {part: load_chorales(part, seed=0) for part in ("train", "valid", "test")}
    data = {part: c.next_step() for part, c in chorales.items()}
    budget = args.budget or zoo.get("music_rnn", cell="gru", units=64).count_params()
    print(f"chorales: train {len(chorales['train'])}, valid {len(chorales['valid'])}, "
          f"test {len(chorales['test'])}; parameter budget {budget}")
    rows = [("independent notes", 88, None, {
        "valid": independent_notes_nll(chorales["train"].rolls, chorales["valid"].rolls),
        "test": independent_notes_nll(chorales["train"].rolls, chorales["test"].rolls)}, 0.0)]
    candidates = [("linear AR(4)", lambda: zoo.get("linear_ar", order=4)),
                  ("linear AR(8)", lambda: zoo.get("linear_ar", order=8)),
                  ("feed-forward AR(4)", lambda: zoo.get("feedforward_ar", order=4)),
                  ("feed-forward AR(8)", lambda: zoo.get("feedforward_ar", order=8))]
    for cell in args.cells:
        units = units_for(cell, budget)
        candidates.append((f"{cell} x {units}",
                           lambda cell=cell, units=units: zoo.get("music_rnn", cell=cell,
                                                                  units=units)))
    for label, make in [] if args.sweep_only else candidates:
        keras.utils.set_random_seed(args.seed)
        model = make()
        seconds = fit(model, data, args.epochs, args.seed, args.learning_rate)
        rows.append((label, model.count_params(), None, score(model, data), seconds))
        print(f"  {label:26s} test NLL {rows[-1][3]['test']:.3f} ({seconds:.0f} s)", flush=True)

    print("\n| model | parameters | valid NLL | test NLL | train s |\n|---|---|---|---|---|")
    for label, params, _, nll, seconds in rows:
        print(f"| {label} | {params} | {nll['valid']:.3f} | {nll['test']:.3f} | {seconds:.0f} |")

    print(f"\nrank sweep: bilinear cell, {args.rank_units} units, CP rank vs full tensor")
    sweep = []
    for rank in [*args.ranks, None]:
        options = {"tensor_format": "full"} if rank is None else {"tensor_format": "cp",
                                                                   "rank": rank}
        keras.utils.set_random_seed(args.seed)
        model = zoo.get("music_rnn", cell="bilinear", units=args.rank_units,
                        cell_options=options)
        seconds = fit(model, data, args.epochs, args.seed, args.learning_rate)
        nll = score(model, data)
        tensor = zoo.layers.tensor_product.tensor_summary(model)[0]["parameters"]
        sweep.append(("full" if rank is None else rank, tensor, nll, seconds))
        print(f"  rank {sweep[-1][0]}: tensor parameters {tensor}, valid {nll['valid']:.3f}, "
              f"test {nll['test']:.3f} ({seconds:.0f} s)", flush=True)
    print("\n| CP rank | tensor parameters | valid NLL | test NLL |\n|---|---|---|---|")
    for rank, tensor, nll, _ in sweep:
        print(f"| {rank} | {tensor} | {nll['valid']:.3f} | {nll['test']:.3f} |")
    best = min(sweep, key=lambda r: r[2]["valid"])
    print(f"best rank by validation NLL: {best[0]} (test {best[2]['test']:.3f})")
    if args.plot:
        plot_rank_sweep([r[0] for r in sweep], [r[2]["test"] for r in sweep], args.plot,
                        "test NLL per time step (nats)",
                        f"Bach chorales, bilinear cell x {args.rank_units}")
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
