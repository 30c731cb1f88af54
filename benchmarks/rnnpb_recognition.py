"""Speed of RNNPB recognition: one PB update on a live window, and batched recognition.

Setting (issue 4): the paper's Table III sizes (4 inputs, 100 hidden Elman units, 2 PB
units) on one CPU thread, trained briefly on BasicMotions reduced to 4 principal
components (the weights' values do not change the cost).

1. Latency of one PB update (forward and backward through a 30-frame window, Adadelta
   step), median of `--repeats` pushes of a `PBStream`:
   - `updates=1`: one compiled call per update, Python's dispatch included;
   - `updates=10`: ten updates per call (what `recognize_stream` does per frame), per update;
   - peer: the same update as a plain `tf.function` (no XLA, the layer's `while_loop`);
   - floor: a compiled call that does nothing with the same arguments (TensorFlow's
     dispatch from Python, which a one-update call cannot go below).
   Target: <= 1 ms median.
2. Batched recognition of 100 windows to convergence (`--steps` updates) against a Python
   loop recognising them one at a time, same model, same steps.

    .venv/bin/python benchmarks/rnnpb_recognition.py [--repeats 500] [--steps 200]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from zoo.models.rnnpb.recognition import adadelta_step  # noqa: E402

WINDOW = 30


def timed(fn, repeats):
    fn()  # warm-up: tracing and compilation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=500)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--sequences", type=int, default=100)
    args = parser.parse_args(argv)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(0)

    train = zoo.data.load_uea("BasicMotions", "train")
    test = zoo.data.load_uea("BasicMotions", "test")
    model = zoo.get("rnnpb", units=100, pb_dim=2, cell="elman", pca_components=4)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(train, epochs=5, verbose=0)
    stream_frames = np.concatenate(test.sequences[:4])
    print(f"RNNPB elman, {model.features} inputs (PCA of {model.channels} channels), "
          f"{model.units} hidden, {model.pb_dim} PB; one CPU thread; window {WINDOW} frames")

    # 1. One update on a full window.
    results = {}
    for updates in (1, 10):
        stream = model.stream(window=WINDOW, updates=updates)
        for frame in stream_frames[:WINDOW]:
            stream.push(frame)
        frames = iter(np.tile(stream_frames, (args.repeats // len(stream_frames) + 2, 1)))
        median, _ = timed(lambda: stream.push(next(frames)), args.repeats)
        results[updates] = median / updates
        print(f"PBStream.push, {updates:2d} update(s) per call: "
              f"{median * 1e3:.3f} ms per call, {median / updates * 1e3:.3f} ms per update")

    z, mask = model.features_of([stream_frames[:WINDOW]])
    z, mask = tf.constant(z), tf.constant(mask)
    state = [tf.constant(model.initial_pb(1))] + [tf.zeros((1, model.pb_dim))] * 2
    settings = [tf.constant(v) for v in (0.9, 1e-4, 1.0)]
    plain = tf.function(lambda *args: adadelta_step(model, *args))
    median, _ = timed(lambda: [t.numpy() for t in plain(z, mask, *state, *settings)], args.repeats)
    results["plain"] = median
    print(f"plain tf.function update (no XLA, while_loop):   {median * 1e3:.3f} ms per update")
    noop = tf.function(lambda z, mask, a, b, c, r, e, l: (a, b, c, mask), jit_compile=True)
    median, _ = timed(lambda: [t.numpy() for t in noop(z, mask, *state, *settings)], args.repeats)
    print(f"floor: a compiled call that does nothing, same arguments: {median * 1e3:.3f} ms")
    for updates in (1, 10):
        ok = "ok" if results[updates] <= 1e-3 else "ABOVE TARGET"
        print(f"latency per update, {updates:2d} per call: {results[updates] * 1e3:.3f} ms "
              f"(target <= 1 ms) {ok}; {results['plain'] / results[updates]:.1f}x faster "
              "than the plain tf.function")

    # 2. Batched recognition against a per-sequence loop.
    rng = np.random.default_rng(0)
    windows = []
    for _ in range(args.sequences):
        seq = test.sequences[rng.integers(len(test))]
        start = rng.integers(0, len(seq) - WINDOW + 1)
        windows.append(seq[start : start + WINDOW])
    model.recognize(windows[:2], steps=5, verbose=0)
    model.recognize(windows, steps=5, verbose=0)  # compile both shapes first
    start = time.perf_counter()
    batched, trace = model.recognize(windows, steps=args.steps, verbose=0)
    batched_s = time.perf_counter() - start
    model.recognize(windows[:1], steps=5, verbose=0)
    start = time.perf_counter()
    looped = np.concatenate([model.recognize([w], steps=args.steps, verbose=0)[0] for w in windows])
    looped_s = time.perf_counter() - start
    print(f"recognise {args.sequences} windows x {args.steps} updates: batched {batched_s:.2f} s, "
          f"one at a time {looped_s:.2f} s; batched is {looped_s / batched_s:.1f}x faster")
    print(f"  error per frame and channel: {trace[0].mean():.4f} before, "
          f"{trace[-1].mean():.4f} after; change over the last 20 updates "
          f"{abs(trace[-20].mean() - trace[-1].mean()):.5f}")
    print(f"  largest PB difference batched vs one at a time: {np.abs(batched - looped).max():.2e}")


if __name__ == "__main__":
    main()
