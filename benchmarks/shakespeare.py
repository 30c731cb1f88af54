"""Characters of Shakespeare: autoregressive baselines against recurrent nets, and rank as a
regulariser (seed `004_*`, section 5.2) at the character level.

Data: the five bundled plays, first 90% of each to train, the last 10% held out (the
`char_lm` recipe's split). Every model reads windows of 100 characters (stride 100, each
window scored without carried state) and is scored in bits per character on the held-out
text. Same optimiser for all: Adam with cosine decay from `--learning-rate`, clipnorm 1,
batch 64, `--epochs` epochs, seed 0.

- Memoryless baselines (seed `001_*`): linear AR(p) and feed-forward AR(p) over one-hot
  characters (`zoo.models.autoregressive`), p = 4 and 8.
- Recurrent: `char_lm` with one layer of `--units` units: GRU, Elman, and the bilinear cell
  with its tensor at CP ranks `--ranks` and full (embedding `--embedding-dim`).

    .venv/bin/python benchmarks/shakespeare.py [--epochs 16] [--ranks 1 2 4 8 16 32] [--plot PNG]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo.data import load_shakespeare  # noqa: E402
from zoo.models.char_lm import CharLM  # noqa: E402
from zoo.plots import plot_rank_sweep  # noqa: E402


def one_hot(ids, size):
    return np.eye(size, dtype="float32")[ids]


def train(model, x, y, x_test, y_test, args):
    steps = args.epochs * int(np.ceil(len(x) / 64))
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps, alpha=0.05)
    model.compile(keras.optimizers.Adam(schedule, clipnorm=1.0),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=True)
    start = time.perf_counter()
    model.fit(x, y, batch_size=64, epochs=args.epochs, shuffle=True, verbose=0)
    seconds = time.perf_counter() - start
    loss = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
    return float(loss) / np.log(2.0), seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--embedding-dim", type=int, default=32)
    parser.add_argument("--ranks", nargs="+", type=int, default=[1, 2, 4, 8, 16, 32])
    parser.add_argument("--skip-baselines", action="store_true")
    parser.add_argument("--chars", type=int, default=None, help="use only this many "
                        "training characters (a smoke run)")
    parser.add_argument("--plot", default=None, help="write the rank sweep as a PNG here")
    args = parser.parse_args(argv)
    text, held_out = load_shakespeare("train"), load_shakespeare("test")
    if args.chars:
        text, held_out = text[:args.chars], held_out[:args.chars // 4]
    vocabulary = CharLM.vocabulary_of(text)
    probe = CharLM(vocabulary, units=8, depth=1)
    x, y = probe.windows(text, length=100, stride=100)
    x_test, y_test = probe.windows(held_out, length=100, stride=100)
    size = probe.vocabulary_size
    print(f"train {len(text)} characters ({len(x)} windows), held out {len(held_out)}; "
          f"vocabulary {size}", flush=True)

    rows = []

    def run(label, make, inputs, test_inputs, tensor=None):
        keras.utils.set_random_seed(0)
        model = make()
        bpc, seconds = train(model, inputs, y, test_inputs, y_test, args)
        rows.append((label, model.count_params(), tensor(model) if tensor else None, bpc,
                     seconds))
        print(f"  {label:28s} {bpc:.3f} bits/char ({seconds:.0f} s)", flush=True)
        return bpc

    if not args.skip_baselines:
        hot, hot_test = one_hot(x, size), one_hot(x_test, size)
        for order in (4, 8):
            run(f"linear AR({order})",
                lambda order=order: zoo.get("linear_ar", input_dim=size, outputs=size,
                                            order=order), hot, hot_test)
            run(f"feed-forward AR({order}), 256 hidden",
                lambda order=order: zoo.get("feedforward_ar", input_dim=size, outputs=size,
                                            order=order, hidden=256), hot, hot_test)
        del hot, hot_test
        for cell in ("elman", "gru"):
            run(f"{cell} x {args.units}",
                lambda cell=cell: zoo.get("char_lm", vocabulary=vocabulary, cell=cell,
                                          units=args.units, depth=1,
                                          embedding_dim=args.embedding_dim), x, x_test)

    def tensor_parameters(model):
        return zoo.layers.tensor_product.tensor_summary(model)[0]["parameters"]

    sweep = []
    for rank in [*args.ranks, "full"]:
        options = ({"tensor_format": "full"} if rank == "full"
                   else {"tensor_format": "cp", "rank": rank})
        bpc = run(f"bilinear x {args.units}, {'full' if rank == 'full' else f'CP {rank}'}",
                  lambda options=options: zoo.get(
                      "char_lm", vocabulary=vocabulary, cell="bilinear", units=args.units,
                      depth=1, embedding_dim=args.embedding_dim, cell_options=options),
                  x, x_test, tensor_parameters)
        sweep.append((rank, bpc))

    print("\n| model | parameters | tensor parameters | held-out bits/char | train s |"
          "\n|---|---|---|---|---|")
    for label, params, tensor, bpc, seconds in rows:
        print(f"| {label} | {params} | {'' if tensor is None else tensor} | {bpc:.3f} | "
              f"{seconds:.0f} |")
    best = min(sweep, key=lambda r: r[1])
    print(f"best rank by held-out bits per character: {best[0]} ({best[1]:.3f})")
    if args.plot:
        plot_rank_sweep([r for r, _ in sweep], [b for _, b in sweep], args.plot,
                        "held-out bits per character",
                        f"Shakespeare, bilinear cell x {args.units}")
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
