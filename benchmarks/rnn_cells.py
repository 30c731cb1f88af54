"""Speed of the zoo recurrent layers against Keras's and PyTorch's, measured in one run.

Setting (issue 3): batch 32, 200 steps, 40 inputs, 128 units, return_sequences, a
per-step Dense(1) head and mean squared error. Training is one Adam step on one batch
(forward, backward, update); inference is a forward pass. Prints sequences per second,
the median of `--repeats` timed repeats of `--batches` batches each, and the ratios the
issue sets targets for. torch is a peer only: `pip install torch==2.13.0`.

    .venv/bin/python benchmarks/rnn_cells.py [--repeats 7] [--batches 5]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402

BATCH, STEPS, INPUTS, UNITS = 32, 200, 40, 128


def median_rate(run, repeats, batches, batch=BATCH):
    """Sequences per second of `run` (one batch of `batch`): median of the repeats, all."""
    run()  # warm-up: tracing and compilation
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(batches):
            run()
        rates.append(batch * batches / (time.perf_counter() - start))
    return statistics.median(rates), rates


def keras_runs(layer, x, y):
    model = keras.Sequential([keras.Input((STEPS, INPUTS)), layer, keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")

    def train():
        model.train_on_batch(x, y)

    def infer():
        model.predict_on_batch(x)

    return train, infer


def torch_runs(kind, x, y):
    import torch

    rnn = getattr(torch.nn, kind)(INPUTS, UNITS, batch_first=True)
    head = torch.nn.Linear(UNITS, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def train():
        optimizer.zero_grad()
        out, _ = rnn(xt)
        loss = torch.mean((head(out) - yt) ** 2)
        loss.backward()
        optimizer.step()

    def infer():
        with torch.no_grad():
            head(rnn(xt)[0])

    return train, infer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH, STEPS, INPUTS)).astype("float32")
    y = rng.normal(size=(BATCH, STEPS, 1)).astype("float32")
    contenders = {
        "zoo PeepholeLSTM": lambda: keras_runs(zoo.layers.PeepholeLSTM(UNITS, return_sequences=True), x, y),
        "zoo GRU": lambda: keras_runs(zoo.layers.GRU(UNITS, return_sequences=True), x, y),
        "keras LSTM": lambda: keras_runs(keras.layers.LSTM(UNITS, return_sequences=True), x, y),
        "keras GRU": lambda: keras_runs(keras.layers.GRU(UNITS, return_sequences=True), x, y),
    }
    try:
        import torch

        torch.manual_seed(0)
        contenders["torch LSTM"] = lambda: torch_runs("LSTM", x, y)
        contenders["torch GRU"] = lambda: torch_runs("GRU", x, y)
    except ImportError:
        print("torch not installed: torch peers skipped (pip install torch==2.13.0)")

    results = {}
    print(f"batch {BATCH}, {STEPS} steps, {INPUTS} inputs, {UNITS} units; sequences/s, "
          f"median of {args.repeats} repeats x {args.batches} batches")
    for name, make in contenders.items():
        train, infer = make()
        results[name] = {}
        for mode, run in (("train", train), ("infer", infer)):
            rate, rates = median_rate(run, args.repeats, args.batches)
            results[name][mode] = rate
            print(f"{name:18s} {mode}  {rate:8.0f}   ({', '.join(f'{r:.0f}' for r in rates)})", flush=True)

    def ratio(a, b, mode, target=None):
        if a in results and b in results:
            value = results[a][mode] / results[b][mode]
            verdict = ""
            if target is not None:
                verdict = f" (target >= {target:.1f}x) " + ("ok" if value >= target else "BELOW TARGET")
            print(f"{a} / {b} {mode}: {value:.2f}x{verdict}")

    print()
    ratio("zoo PeepholeLSTM", "keras LSTM", "train", 1.0)
    ratio("zoo PeepholeLSTM", "keras LSTM", "infer", 1.0)
    ratio("zoo PeepholeLSTM", "torch LSTM", "train")
    ratio("zoo PeepholeLSTM", "torch LSTM", "infer", 1.0)
    ratio("zoo GRU", "keras GRU", "train", 1.0)
    ratio("zoo GRU", "keras GRU", "infer", 1.0)
    ratio("zoo GRU", "torch GRU", "train")
    ratio("zoo GRU", "torch GRU", "infer")

if __name__ == "__main__":
    main()
