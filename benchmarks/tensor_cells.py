"""Every cell on the memory tasks of seed 004, one table: adding (T=200), variable binding,
sequential and permuted digits.

- adding: 64 units, batch 64, Adam 1e-2, solved = test MSE < 0.01 (mean predictor 0.167),
  at most `--adding-steps` steps;
- variable binding: 4 key/value pairs of 8 symbols, 64 units, Adam 3e-3, solved = test
  accuracy >= 0.99 (chance 0.125), at most `--binding-steps` steps;
- digits: scikit-learn's 8x8 digits pixel by pixel (64 steps), plain and in a fixed
  permuted order, 64 units, Adam 3e-3, `--digits-epochs` epochs; test error after the last.

Parameters are those of the digits model (1 input). Every run uses seed 0.

    .venv/bin/python benchmarks/tensor_cells.py [--cells elman gru ...] [--quick]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from zoo.recipes.adding import train_adding  # noqa: E402
from zoo.recipes.binding import train_binding  # noqa: E402
from zoo.recipes.digits import train_digits  # noqa: E402

CELLS = {
    "elman": ("elman", None),
    "gru": ("gru", None),
    "peephole_lstm": ("peephole_lstm", None),
    "bilinear full": ("bilinear", {"tensor_format": "full"}),
    "bilinear CP 16": ("bilinear", {"tensor_format": "cp", "rank": 16}),
    "bilinear TT (4, 4)": ("bilinear", {"tensor_format": "tt", "rank": (4, 4)}),
    "gated bilinear CP 16": ("gated_bilinear", {"tensor_format": "cp", "rank": 16}),
    "gated bilinear TT (4, 4)": ("gated_bilinear", {"tensor_format": "tt", "rank": (4, 4)}),
    "GRU, TT matrices (rank 4)": ("gru", {"kernel_format": "tt", "recurrent_kernel_format": "tt",
                                          "tt_rank": 4}),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=list(CELLS),
                        metavar="CELL")
    parser.add_argument("--adding-steps", type=int, default=2500)
    parser.add_argument("--binding-steps", type=int, default=3000)
    parser.add_argument("--digits-epochs", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny budgets")
    args = parser.parse_args(argv)
    if args.quick:
        args.adding_steps, args.binding_steps, args.digits_epochs = 100, 100, 1
    rows = []
    for label in args.cells:
        cell, options = CELLS[label]
        adding = train_adding(cell, max_steps=args.adding_steps, cell_options=options)
        binding = train_binding(cell, pairs=4, symbols=8, max_steps=args.binding_steps,
                                cell_options=options)
        plain = train_digits(cell, epochs=args.digits_epochs, cell_options=options)
        permuted = train_digits(cell, permuted=True, epochs=args.digits_epochs,
                                cell_options=options)
        row = {"label": label, "adding": adding, "binding": binding, "plain": plain,
               "permuted": permuted}
        rows.append(row)
        seconds = sum(r["seconds"] for r in (adding, binding, plain, permuted))
        print(f"== {label}: {format_row(row)} ({seconds:.0f} s)", flush=True)
    print("\n| cell | parameters | adding T=200 | variable binding | digits error | "
          "permuted digits error |\n|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['label']} | {format_row(row)} |")


def format_row(row):
    adding, binding = row["adding"], row["binding"]
    add = (f"solved in {adding['steps']}" if adding["solved"]
           else f"MSE {adding['test_mse']:.3f} at {adding['steps']}")
    bind = (f"solved in {binding['steps']}" if binding["solved"]
            else f"{binding['accuracy']:.3f} at {binding['steps']}")
    return (f"{row['plain']['parameters']} | {add} | {bind} | "
            f"{row['plain']['test_error']:.3f} | {row['permuted']['test_error']:.3f}")


if __name__ == "__main__":
    main()
