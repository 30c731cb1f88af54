"""Every cell on the memory tasks of Mathews' tensor-RNN thesis: adding (T=200), variable
binding, and digits read in turn (8x8 digits pixel by pixel, real MNIST row by row and pixel
by pixel), plain and permuted.

- adding: 64 units, batch 64, Adam 1e-2, solved = test MSE < 0.01 (mean predictor 0.167),
  at most `--adding-steps` steps; seed 0;
- variable binding: 4 key/value pairs of 8 symbols, 64 units, Adam 3e-3, solved = test
  accuracy >= 0.99 (chance 0.125), at most `--binding-steps` steps; seed 0;
  `binding_curriculum` is the same run with a length schedule: one pair first, one more
  each time test accuracy at the current length reaches `--advance-at`, scored on 4 pairs;
- digits: 64 units, batch 64, Adam 3e-3, test error after a fixed number of epochs (so a
  fixed number of optimizer steps) for each seed of `--seeds` (each seed its own split,
  permutation and initialisation): scikit-learn's 8x8 digits (64 steps, `--digits-epochs`),
  MNIST rows (28 steps of 28 pixels, `--mnist-row-epochs`, every cell), MNIST pixels (784
  steps, `--mnist-pixel-epochs`, the cells of `--pixel-cells`; the test error every
  `--pixel-evaluate-every` epochs is printed as a learning curve). Blank pixels are read,
  not masked (see zoo.recipes.digits).

Parameters are those of each model; they differ by cell (64 units each).

    .venv/bin/python benchmarks/tensor_cells.py [--tasks digits mnist_row ...] [--quick]
"""

import argparse
import os

import numpy as np

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


DIGIT_TASKS = ("digits", "mnist_row", "mnist_pixel")
MEMORY_TASKS = ("adding", "binding", "binding_curriculum")
TASKS = MEMORY_TASKS + DIGIT_TASKS


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=list(CELLS),
                        metavar="CELL")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--adding-steps", type=int, default=2500)
    parser.add_argument("--binding-steps", type=int, default=3000)
    parser.add_argument("--advance-at", type=float, default=0.9)
    parser.add_argument("--digits-epochs", type=int, default=30)
    parser.add_argument("--mnist-row-epochs", type=int, default=20)
    parser.add_argument("--mnist-pixel-epochs", type=int, default=16)
    parser.add_argument("--pixel-evaluate-every", type=int, default=2)
    parser.add_argument("--pixel-cells", nargs="+", default=["gru", "peephole_lstm"],
                        choices=list(CELLS), metavar="CELL")
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny budgets")
    args = parser.parse_args(argv)
    epochs = {"digits": args.digits_epochs, "mnist_row": args.mnist_row_epochs,
              "mnist_pixel": args.mnist_pixel_epochs}
    if args.quick:
        args.adding_steps, args.binding_steps, args.seeds = 100, 100, args.seeds[:1]
        epochs = dict.fromkeys(epochs, 1)
    memory, digits = [], []
    for label in args.cells:
        cell, options = CELLS[label]
        if set(MEMORY_TASKS) & set(args.tasks):
            row = {"label": label}
            if "adding" in args.tasks:
                row["adding"] = train_adding(cell, max_steps=args.adding_steps,
                                             cell_options=options)
            if "binding" in args.tasks:
                row["binding"] = train_binding(cell, pairs=4, symbols=8,
                                               max_steps=args.binding_steps, cell_options=options)
            if "binding_curriculum" in args.tasks:
                run = train_binding(cell, pairs=4, symbols=8, max_steps=args.binding_steps,
                                    cell_options=options, curriculum=True,
                                    advance_at=args.advance_at)
                row["binding_curriculum"] = run
                curve = " ".join(f"{step}:{accuracy:.3f}" for step, accuracy in run["curve"])
                stages = " ".join(f"{pairs} pairs from step {step}"
                                  for step, pairs in run["stages"])
                print(f"{label} binding curriculum: {stages}; curve {curve}", flush=True)
            memory.append(row)
            print(f"== {label}: {format_memory(row)}", flush=True)
        row = {"label": label}
        for task in DIGIT_TASKS:
            if task not in args.tasks or (task == "mnist_pixel" and label not in args.pixel_cells):
                continue
            every = args.pixel_evaluate_every if task == "mnist_pixel" else epochs[task]
            for permuted in (False, True):
                runs = [train_digits(cell, permuted=permuted, epochs=epochs[task], seed=seed,
                                     cell_options=options, source=task, evaluate_every=every)
                        for seed in args.seeds]
                row[task, permuted] = runs
                row.setdefault("parameters", {})[task] = runs[0]["parameters"]
                row.setdefault("steps", {})[task] = runs[0]["steps"]
                for run in runs:
                    curve = " ".join(f"{steps}:{error:.3f}" for steps, error in run["curve"])
                    print(f"{label} {task}{' permuted' if permuted else ''} seed {run['seed']}: "
                          f"{run['parameters']} parameters, {run['steps']} steps, test error "
                          f"{run['test_error']:.3f} ({run['seconds']:.0f} s); curve {curve}",
                          flush=True)
        if "parameters" in row:
            digits.append(row)
    if memory:
        columns = [task for task in MEMORY_TASKS if task in args.tasks]
        print("\n| cell | " + " | ".join(columns) + " |\n|---|" + "---|" * len(columns))
        for row in memory:
            print(f"| {row['label']} | {format_memory(row)} |")
    if digits:
        columns = [(task, permuted) for task in DIGIT_TASKS if task in args.tasks
                   for permuted in (False, True)]
        tasks = [task for task in DIGIT_TASKS if task in args.tasks]
        steps = {task: row["steps"][task] for row in digits for task in row["steps"]}
        print(f"\nTest error, mean \u00b1 sd over seeds {' '.join(map(str, args.seeds))}; "
              "optimizer steps per run: "
              + ", ".join(f"{task} {steps[task]}" for task in tasks if task in steps))
        print(f"\n| cell | parameters ({' / '.join(tasks)}) | " + " | ".join(
            f"{task}{' permuted' if permuted else ''}" for task, permuted in columns)
            + " |\n|---|---|" + "---|" * len(columns))
        for row in digits:
            cells = [format_errors(row.get(column)) for column in columns]
            parameters = " / ".join(str(row["parameters"].get(task, "-")) for task in tasks)
            print(f"| {row['label']} | {parameters} | " + " | ".join(cells) + " |")


def format_memory(row):
    parts = []
    if "adding" in row:
        adding = row["adding"]
        parts.append(f"solved in {adding['steps']}" if adding["solved"]
                     else f"MSE {adding['test_mse']:.3f} at {adding['steps']}")
    for task in ("binding", "binding_curriculum"):
        if task in row:
            binding = row[task]
            parts.append(f"solved in {binding['steps']}" if binding["solved"]
                         else f"{binding['accuracy']:.3f} at {binding['steps']}")
    return " | ".join(parts)


def format_errors(runs):
    if not runs:
        return "-"
    errors = np.array([run["test_error"] for run in runs])
    return f"{errors.mean():.3f} \u00b1 {errors.std():.3f}"


if __name__ == "__main__":
    main()
