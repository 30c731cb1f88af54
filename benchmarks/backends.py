"""Training and inference speed of zoo models on TensorFlow, JAX and PyTorch, one run.

Each backend runs in a process of its own (the backend is fixed when Keras is imported)
on the same data: `PeepholeLSTM` and `GRU` (batch 32, 100 steps, 40 inputs, 64 units,
return_sequences, a per-step Dense(1) head, mean squared error) and `emotion_downup`
(batch 8, 400 frames, 40 features, 2 outputs, `CCCLoss`). Training is one optimiser step
on one batch (`train_on_batch`), inference one forward pass (`predict_on_batch`). Prints
sequences per second, the median of `--repeats` timed repeats of `--batches` batches, and
each backend's ratio to TensorFlow measured in the same run.

    .venv/bin/python benchmarks/backends.py [--repeats 5] [--batches 5]
"""

import argparse
import json
import os
import subprocess
import sys

BACKENDS = ("tensorflow", "jax", "torch")
CASES = ("peephole_lstm", "gru", "emotion_downup")


def _case(name):
    import keras
    import numpy as np

    import zoo

    rng = np.random.default_rng(0)
    if name == "emotion_downup":
        batch = 8
        x = rng.normal(size=(batch, 400, 40)).astype("float32")
        y = np.cumsum(x[..., :2], axis=1).astype("float32") / 20
        model = zoo.get("emotion_downup", input_dim=40, outputs=2)
        model.compile(optimizer="adam", loss=zoo.losses.CCCLoss())
        return model, x, y, batch
    batch = 32
    x = rng.normal(size=(batch, 100, 40)).astype("float32")
    y = rng.normal(size=(batch, 100, 1)).astype("float32")
    layer = {"peephole_lstm": zoo.layers.PeepholeLSTM, "gru": zoo.layers.GRU}[name]
    model = keras.Sequential([keras.Input((100, 40)), layer(64, return_sequences=True),
                              keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model, x, y, batch


def _rate(run, batch, repeats, batches):
    from rnn_cells import median_rate  # this folder is on the path of a script run

    return median_rate(run, repeats, batches, batch=batch)[0]


def measure(repeats, batches):
    """This process's backend: {case: {"train": seq/s, "inference": seq/s}}."""
    results = {}
    for name in CASES:
        model, x, y, batch = _case(name)
        results[name] = {
            "train": _rate(lambda: model.train_on_batch(x, y), batch, repeats, batches),
            "inference": _rate(lambda: model.predict_on_batch(x), batch, repeats, batches),
        }
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.repeats, args.batches)))
        return
    results = {}
    for backend in BACKENDS:
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
               "CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}
        done = subprocess.run(
            [sys.executable, __file__, "--child", "--repeats", str(args.repeats),
             "--batches", str(args.batches)],
            env=env, capture_output=True, text=True, timeout=1800, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{backend} failed:\n{done.stderr[-3000:]}")
        results[backend] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"sequences per second, median of {args.repeats} x {args.batches} batches; "
          "ratio to TensorFlow in brackets")
    print(f"{'model':16s} {'mode':10s} " + " ".join(f"{b:>20s}" for b in BACKENDS))
    for name in CASES:
        for mode in ("train", "inference"):
            base = results["tensorflow"][name][mode]
            cells = [f"{results[b][name][mode]:9.1f} ({results[b][name][mode] / base:4.2f}x)"
                     for b in BACKENDS]
            print(f"{name:16s} {mode:10s} " + " ".join(f"{c:>20s}" for c in cells))


if __name__ == "__main__":
    main()
