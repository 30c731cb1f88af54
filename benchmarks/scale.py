"""Scaling figures of training on packed corpora (`zoo.data.pack` / `zoo.data.stream`).

Three measurements, each in fresh processes, on AVEC-sized frames (160 features, 2 label
dimensions, recordings of 500-1500 frames: 20-60 s at 40 ms):

(a) input pipeline against training: frames per second that `stream` delivers on its own
    (the read, parse, shuffle, bucket and pad of every batch) against frames per second
    that `emotion_downup` (the fastest zoo regressor to train, so the hardest case)
    consumes when it trains on the same stream, over whole epochs of the 10x corpus. The
    pipeline must deliver at least 3x what training consumes.
(b) memory: peak resident memory of a process that trains one epoch over a packed corpus,
    for a corpus 1x and 10x the size (the corpus itself never enters memory); must stay
    within 15%.
(c) per-step time of the same training step on 1 and 2 devices (TensorFlow
    `MirroredStrategy` over logical CPU devices), global batch fixed.

Medians of `--repeats` runs. Prints a table and writes `benchmarks/results/scale.txt`.
`--only-checks` measures only what checking every record against the index costs the
stream (alternating passes with `check=True` and `check=False`), into
`benchmarks/results/scale_checks.txt`.

    .venv/bin/python benchmarks/scale.py [--recordings 40] [--repeats 3] [--only-checks]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FEATURES, BATCH = 160, 8
HERE = Path(__file__).resolve().parent


def _corpus(recordings, seed):
    import numpy as np

    from zoo.data import Corpus

    rng = np.random.default_rng(seed)
    names, xs, ys = [], [], []
    for i in range(recordings):
        length = int(rng.integers(500, 1501))
        x = rng.normal(size=(length, FEATURES)).astype("float32")
        names.append(f"{'dev' if i % 10 == 9 else 'train'}_{i}")
        xs.append(x)
        ys.append(np.tanh(np.cumsum(x[:, :2], axis=0) / 30).astype("float32"))
    return Corpus(names, xs, ys)


def _pack(recordings, out):
    from zoo.data import pack

    index = pack(_corpus(recordings, 0), out, shard_bytes=16 * 2**20)
    return index


def _model():
    import keras

    import zoo

    model = zoo.get("emotion_downup", input_dim=FEATURES, outputs=2)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=zoo.losses.CCCLoss(),
                  weighted_metrics=[zoo.metrics.CCC()])
    return model


def pipeline(folder, repeats, checks=(True,)):
    """Frames/s the stream delivers with no model: median of `repeats` passes, for each of
    `checks` (the per-record checks against the index on or off), passes alternating."""
    from zoo.data import read_index, stream

    index = read_index(folder, verify=False)
    train_frames = sum(s["frames"] * s["splits"].get("train", 0) / s["records"]
                       for s in index["shards"])
    rates = {check: [] for check in checks}
    for r in range(repeats + 1):
        for check in checks if r % 2 else checks[::-1]:  # ABBA: neither always goes first
            start = time.perf_counter()
            for _ in stream(folder, "train", BATCH, seed=r, verify=False, check=check):
                pass
            rates[check].append(train_frames / (time.perf_counter() - start))
    # The first pass traces the pipeline's functions.
    medians = [statistics.median(rates[check][1:]) for check in checks]
    return medians[0] if len(medians) == 1 else medians


class _StepTimer:
    def __init__(self):
        import keras

        class Timer(keras.callbacks.Callback):
            def on_train_batch_begin(s, batch, logs=None):
                s.start = time.perf_counter()

            def on_train_batch_end(s, batch, logs=None):
                self.times.append(time.perf_counter() - s.start)

        self.times = []
        self.callback = Timer()


def training(folder, repeats):
    """Frames/s that training consumes: real frames of an epoch over the fit time of the
    epoch (first epoch, with tracing, left out); median of `repeats` epochs."""
    from zoo.data import read_index, stream

    index = read_index(folder, verify=False)
    train_frames = sum(s["frames"] * s["splits"].get("train", 0) / s["records"]
                       for s in index["shards"])
    model = _model()
    data = stream(folder, "train", BATCH, verify=False)
    model.fit(data, epochs=1, verbose=0)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(data, epochs=1, verbose=0)
        rates.append(train_frames / (time.perf_counter() - start))
    return statistics.median(rates)


def memory(folder):
    """Peak resident MiB of this process after training one epoch over the whole pack."""
    from zoo.data import stream

    model = _model()
    model.fit(stream(folder, "train", BATCH, verify=False), epochs=1, verbose=0)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def steps(folder, devices, repeats):
    """Median seconds per training step of a fixed global batch on `devices` devices."""
    import contextlib

    from zoo import distribute
    from zoo.data import stream

    timer = _StepTimer()
    context = distribute.devices(devices) if devices > 1 else contextlib.nullcontext()
    with context:
        model = _model()
    data = stream(folder, "train", BATCH, pad_to=1000, buckets=1, verify=False, shuffle=False,
                  drop_remainder=True)
    model.fit(data, epochs=1, verbose=0)  # tracing
    medians = []
    for _ in range(repeats):
        timer.times.clear()
        model.fit(data, epochs=1, verbose=0, callbacks=[timer.callback])
        medians.append(statistics.median(timer.times))
    return statistics.median(medians)


def _child(*args, devices=1):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    result = subprocess.run([sys.executable, __file__, "--child", *map(str, args),
                             "--devices", str(devices)], env=env, capture_output=True,
                            text=True, timeout=3600)
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recordings", type=int, default=200,
                        help="recordings of the 1x corpus (enough to fill the shuffle and "
                             "bucket buffers, whose sizes are fixed)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only-checks", action="store_true",
                        help="measure only what the per-record checks against the index cost "
                             "the stream (10x corpus), into results/scale_checks.txt")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--devices", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        what, folder, *rest = args.child
        if what == "steps" and args.devices > 1:
            from zoo import distribute

            distribute.split_cpu(args.devices)
        value = {"pipeline": lambda: pipeline(folder, int(rest[0])),
                 "checks": lambda: pipeline(folder, int(rest[0]), checks=(True, False)),
                 "training": lambda: training(folder, int(rest[0])),
                 "memory": lambda: memory(folder),
                 "steps": lambda: steps(folder, args.devices, int(rest[0]))}[what]()
        print(json.dumps(value))
        return

    if args.only_checks:
        return _checks(args)
    with tempfile.TemporaryDirectory() as scratch:
        small, large = Path(scratch) / "1x", Path(scratch) / "10x"
        sizes = {}
        for folder, count in ((small, args.recordings), (large, 10 * args.recordings)):
            index = _child_pack(folder, count)
            sizes[folder.name] = index
        feed = _child("pipeline", large, args.repeats)
        consume = _child("training", large, args.repeats)
        rss = {name: statistics.median(_child("memory", Path(scratch) / name)
                                       for _ in range(args.repeats))
               for name in ("1x", "10x")}
        step = {d: _child("steps", small, args.repeats, devices=d) for d in (1, 2)}

    lines = [
        f"scale.py: emotion_downup, {FEATURES} features, batch {BATCH}, recordings of "
        f"500-1500 frames; TensorFlow, {os.cpu_count()} CPU cores; medians of "
        f"{args.repeats} runs",
        "",
        "(a) input pipeline against training (10x corpus, steady state)",
        f"  stream alone:           {feed:12,.0f} frames/s",
        f"  training consumes:      {consume:12,.0f} frames/s",
        f"  headroom:               {feed / consume:12.1f}x   (target >= 3x)",
        "",
        "(b) peak resident memory, one epoch over the packed corpus",
    ]
    for name in ("1x", "10x"):
        index = sizes[name]
        lines.append(f"  {name:4s} {index['records']:5d} recordings, {index['frames']:9,d} frames, "
                     f"{sum(s['bytes'] for s in index['shards']) / 2**20:7.1f} MiB on disk: "
                     f"{rss[name]:7.0f} MiB resident")
    growth = rss["10x"] / rss["1x"] - 1
    lines += [f"  10x against 1x:         {growth:+12.1%}   (target within 15%)", "",
              "(c) seconds per training step, global batch "
              f"{BATCH} x 1000 frames (MirroredStrategy over logical CPU devices)"]
    for devices, seconds in step.items():
        lines.append(f"  {devices} device(s):            {seconds:12.3f} s   "
                     f"({BATCH * 1000 / seconds:,.0f} frames/s)")
    lines.append(f"  2 against 1:            {step[1] / step[2]:12.2f}x speed-up")
    text = "\n".join(lines)
    print(text)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "scale.txt").write_text(text + "\n")


def _checks(args):
    """Stream rate with the per-record checks against the index, and without, alternating
    passes in one process over the 10x corpus."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "10x"
        index = _child_pack(folder, 10 * args.recordings)
        checked, unchecked = _child("checks", folder, args.repeats)
    text = "\n".join([
        f"scale.py --only-checks: {index['records']} recordings, {index['frames']:,d} frames x "
        f"{FEATURES} features, batch {BATCH}; TensorFlow, {os.cpu_count()} CPU cores; medians "
        f"of {args.repeats} alternating passes",
        f"  stream, records checked against the index: {checked:12,.0f} frames/s",
        f"  stream, check=False:                       {unchecked:12,.0f} frames/s",
        f"  cost of the checks:                        {unchecked / checked - 1:+12.1%}   "
        "(target at most +5%)"])
    print(text)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "scale_checks.txt").write_text(text + "\n")


def _child_pack(folder, count):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    code = (f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import scale; "
            f"print(json.dumps(scale._pack({count}, {str(folder)!r})))")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=3600)
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
