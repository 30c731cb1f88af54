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
2. Batched recognition of 100 windows to convergence (`--steps` updates), on one thread,
   then on all cores: its arithmetic rate against the machine's own limit, a compiled
   chain of plain matrix products of the update's largest size ((windows x hidden) @
   (hidden x hidden)) timed in the same process (issue 30). The update's count: per frame
   and window, forward `in*H + H*H + H*out` multiply-adds and backward `H*H + H*out`
   (only the gradient with respect to the inputs, none for the weights), two FLOPs each.
   Target: >= 50% of the matmul rate. Also shown: a Python loop recognising the windows
   one at a time, same model, same steps.
3. Long sequences (issue 18): cost per (sequence x frame x update) of `recognize` on 150
   sequences of 30, 150 and 400 frames (the last two above `UNROLL_MAX`, so on the
   chunked path), and time against the number of starts on 150-frame sequences.
   Target: 150 and 400 frames within 1.5x of 30 frames; time linear in the starts.

    .venv/bin/python benchmarks/rnnpb_recognition.py [--repeats 500] [--steps 200]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from zoo.models.rnnpb.pb_updates import CHUNK, UNROLL_MAX, adadelta_step  # noqa: E402

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
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", choices=["batched"], default=None,
                        help="run part 2 only (the all-cores run uses it, in its own process)")
    args = parser.parse_args(argv)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(0)

    train = zoo.data.load_uea("BasicMotions", "train")
    test = zoo.data.load_uea("BasicMotions", "test")
    model = zoo.get("rnnpb", units=100, pb_dim=2, cell="elman", pca_components=4, dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(train, epochs=5, verbose=0)
    if args.only is None:
        print(f"RNNPB elman, {model.features} inputs (PCA of {model.channels} channels), "
              f"{model.units} hidden, {model.pb_dim} PB; {args.threads} CPU thread(s); "
              f"window {WINDOW} frames")

    if args.only is None:
        latency(model, test, args)
    fraction = batched(model, test, args)
    if args.only is not None:
        return
    cores = os.cpu_count()
    if cores > 1:  # the same comparison on all cores, in a process started with them
        out = subprocess.run([sys.executable, __file__, "--only", "batched", "--threads",
                              str(cores), "--steps", str(args.steps), "--sequences",
                              str(args.sequences)], capture_output=True, text=True, check=True)
        print(out.stdout, end="")
        fraction = max(fraction, float(out.stdout.rsplit("BATCHED", 1)[1].split()[0]))
    print(f"batched rate / matmul rate, best thread count (target >= 0.50): {fraction:.2f} "
          f"{'ok' if fraction >= 0.5 else 'BELOW TARGET'}")
    long_sequences_cost(model, test)


def latency(model, test, args):
    """Part 1: the latency of one PB update on a live window."""
    stream_frames = np.concatenate(test.sequences[:4])
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



def update_flops(model, windows, frames):
    """FLOPs of one batched PB update: forward and input-gradient backward (module doc)."""
    inputs, hidden, outputs = model.features + model.pb_dim, model.units, model.features
    per_frame = inputs * hidden + 2 * hidden * hidden + 2 * hidden * outputs
    return 2 * windows * (frames - 1) * per_frame


def matmul_rate(rows, size, repeats=5, chain=2000):
    """FLOP/s of a compiled chain of `chain` products (rows x size) @ (size x size)."""
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(rows, size)).astype("float32"))
    # Orthogonal, so the chain neither blows up nor vanishes (no denormals to slow it).
    w = tf.constant(np.linalg.qr(rng.normal(size=(size, size)))[0].astype("float32"))

    @tf.function(jit_compile=True)
    def run(x, w):
        return tf.while_loop(lambda i, h: i < chain, lambda i, h: (i + 1, h @ w),
                             (tf.constant(0), x))[1]

    seconds, _ = timed(lambda: run(x, w).numpy(), repeats)
    return 2 * rows * size * size * chain / seconds


def batched(model, test, args):
    """Part 2: the batched update's FLOP rate against the matmul rate; one at a time."""
    rng = np.random.default_rng(0)
    windows = []
    for _ in range(args.sequences):
        seq = test.sequences[rng.integers(len(test))]
        start = rng.integers(0, len(seq) - WINDOW + 1)
        windows.append(seq[start : start + WINDOW])
    model.recognize(windows[:1], steps=5, starts=1, verbose=0)
    model.recognize(windows, steps=5, starts=1, verbose=0)  # compile both shapes first
    batched_s, looped_s = [], []
    for _ in range(3):
        start = time.perf_counter()
        batched, trace = model.recognize(windows, steps=args.steps, starts=1, verbose=0)
        batched_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        looped = np.concatenate([
            model.recognize([w], steps=args.steps, starts=1, verbose=0)[0] for w in windows])
        looped_s.append(time.perf_counter() - start)
    b, s = statistics.median(batched_s), statistics.median(looped_s)
    flops = update_flops(model, args.sequences, WINDOW)
    rate = flops * args.steps / b
    peer = matmul_rate(args.sequences, model.units)
    print(f"recognise {args.sequences} windows x {args.steps} updates, {args.threads} "
          f"thread(s): batched {b:.2f} s, {flops / 1e6:.1f} MFLOP per update, "
          f"{rate / 1e9:.1f} GFLOP/s; one at a time {s:.2f} s ({s / b:.1f}x slower; "
          "medians of 3)")
    print(f"  plain ({args.sequences}x{model.units}) @ ({model.units}x{model.units}) matmul "
          f"chain, same process: {peer / 1e9:.1f} GFLOP/s; batched update at "
          f"{rate / peer:.2f} of it")
    print(f"  error per frame and channel: {trace[0].mean():.4f} before, "
          f"{trace[-1].mean():.4f} after; change over the last 20 updates "
          f"{abs(trace[-20].mean() - trace[-1].mean()):.5f}")
    print(f"  largest PB difference batched vs one at a time: {np.abs(batched - looped).max():.2e}")
    print(f"BATCHED {rate / peer:.3f} ({args.threads} threads)")
    return rate / peer


def long_sequences_cost(model, test):
    """Part 3: cost per (sequence x frame x update) against length, and the starts."""
    rng = np.random.default_rng(1)
    per_frame = {}
    count, updates = 150, 50
    for frames in (30, 150, 400):
        sequences = long_sequences(test, frames, count, rng)
        model.recognize(sequences, steps=25, starts=1, verbose=0)  # compiles this shape
        times = []
        for _ in range(3):
            start = time.perf_counter()
            model.recognize(sequences, steps=updates, starts=1, verbose=0)
            times.append(time.perf_counter() - start)
        per_frame[frames] = statistics.median(times) / (count * frames * updates)
        path = "unrolled" if frames <= UNROLL_MAX else f"chunked, {CHUNK}-frame chunks"
        print(f"recognise {count} x {frames} frames x {updates} updates ({path}): "
              f"{statistics.median(times):.2f} s, {per_frame[frames] * 1e9:.0f} ns per "
              f"sequence x frame x update")
    for frames in (150, 400):
        ratio = per_frame[frames] / per_frame[30]
        print(f"cost per frame, {frames} frames / 30 frames: {ratio:.2f}x (target <= 1.5x) "
              f"{'ok' if ratio <= 1.5 else 'ABOVE TARGET'}")
    sequences = long_sequences(test, 150, 50, rng)
    by_starts = {}
    for starts in (1, 4, 8):
        model.recognize(sequences, steps=25, starts=starts, verbose=0)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            model.recognize(sequences, steps=updates, starts=starts, verbose=0)
            times.append(time.perf_counter() - start)
        by_starts[starts] = statistics.median(times)
        print(f"recognise 50 x 150 frames x {updates} updates, {starts} start(s): "
              f"{by_starts[starts]:.2f} s, {by_starts[starts] / starts:.2f} s per start")
    print(f"time 8 starts / 4 starts: {by_starts[8] / by_starts[4]:.2f} (linear: 2.00)")


def long_sequences(test, frames, count, rng):
    """`count` sequences of `frames` frames cut from the test recordings joined end to end."""
    stream = np.concatenate(test.sequences)
    starts = rng.integers(0, len(stream) - frames, size=count)
    return [stream[s : s + frames] for s in starts]

if __name__ == "__main__":
    main()
