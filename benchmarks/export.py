"""Exports against Keras: file size and latency per model and format, in one run.

For each model, the same input goes through Keras (`model.predict`; a direct call
`model(x)`, which skips predict's per-call set-up; and the step function compiled with
`tf.function` for the streaming rows) and through each export in its own
runtime (TensorFlow's SavedModel loader, the stand-alone LiteRT interpreter with its
default threads, onnxruntime with its defaults). Inputs: one 7501-frame recording (5
minutes at 40 ms) of 160 features for the emotion models; one batch of 32 sequences of
200 frames for the recurrent classifier; one frame (batch 1) for the streaming step.
Median of `--repeats` calls after one warm-up call; ratios are Keras time / export time.

    .venv/bin/python benchmarks/export.py [--repeats 20] [--out /tmp/zoo_export_bench]
"""

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

import zoo  # noqa: E402
from zoo.export import StepFunction, export  # noqa: E402

SUFFIX = {"saved_model": "", "litert": ".tflite", "onnx": ".onnx"}


def median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def size_mb(path):
    path = Path(path)
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6
    return sum(f.stat().st_size for f in path.parent.glob(path.stem + "*.onnx")) / 1e6 \
        if path.suffix == ".onnx" else path.stat().st_size / 1e6


def runner(path, format, signature):
    if format == "saved_model":
        fn = tf.saved_model.load(str(path)).signatures[signature]
        return lambda **kw: fn(**{k: tf.constant(v) for k, v in kw.items()})
    if format == "litert":
        return Interpreter(model_path=str(path)).get_signature_runner(signature)
    card = zoo.export.read_card(path)
    session = ort.InferenceSession(str(Path(path).parent / card["files"][signature]))
    return lambda **kw: session.run(None, kw)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", default=None, help="keep the exports here")
    args = parser.parse_args(argv)
    out = Path(args.out or tempfile.mkdtemp(prefix="zoo_export_bench_"))
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    recording = rng.normal(size=(1, 7501, 160)).astype("float32")
    batch = rng.normal(size=(32, 200, 12)).astype("float32")
    cases = [
        ("emotion_downup", zoo.get("emotion_downup", input_dim=160), recording, 1),
        ("emotion_dilated (causal)", zoo.get("emotion_dilated", input_dim=160, causal=True),
         recording, 1),
        ("gru_classifier x 128", zoo.get("gru_classifier", input_dim=12, classes=9,
                                         units=128), batch, 32),
        ("peephole_lstm_classifier x 128", zoo.get("peephole_lstm_classifier", input_dim=12,
                                                   classes=9, units=128), batch, 32),
    ]
    rows = []
    for label, model, x, size in cases:
        keras_ms = median_ms(lambda: model.predict(x, batch_size=size, verbose=0), args.repeats)
        call_ms = median_ms(lambda: model(x, training=False), args.repeats)
        step_keras_ms = None
        try:
            step = StepFunction(model)
            compiled = tf.function(lambda f, s: step(f, s))
            frame, states = x[:1, 0], step.initial_states(1)
            step_keras_ms = median_ms(lambda: compiled(frame, states), args.repeats)
        except ValueError:
            step = None
        for format, suffix in SUFFIX.items():
            path = out / (label.split()[0] + suffix)
            if path.exists():
                shutil.rmtree(path) if path.is_dir() else path.unlink()
            start = time.perf_counter()
            card = export(model, path, format=format, batch=size,
                          steps=x.shape[1] if format != "saved_model" else None)
            seconds = time.perf_counter() - start
            serve = runner(path, format, "serve")
            ms = median_ms(lambda: serve(sequences=x), args.repeats)
            row = {"model": label, "format": format, "size": size_mb(path), "export_s": seconds,
                   "ms": ms, "keras_ms": keras_ms, "call_ms": call_ms, "step_ms": None,
                   "step_keras_ms": None}
            if "step" in card["signatures"]:
                one = runner(path, format, "step")
                inputs = {k: np.zeros([1 if d is None else d for d in v["shape"]],
                                      v["dtype"]) for k, v in
                          card["signatures"]["step"]["inputs"].items()}
                inputs["frame"] = x[:size, 0]
                row["step_ms"] = median_ms(lambda: one(**inputs), args.repeats * 10)
                row["step_keras_ms"] = step_keras_ms
            rows.append(row)
            print(f"  {label} {format}: {row['size']:.2f} MB, serve {ms:.1f} ms (Keras "
                  f"{keras_ms:.1f}), step {row['step_ms'] if row['step_ms'] is None else round(row['step_ms'], 3)} ms",
                  flush=True)
    print("\n| model | format | size MB | serve ms | Keras predict ms | predict / export | "
          "Keras call ms | step ms | Keras step ms |\n|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        step = "" if r["step_ms"] is None else f"{r['step_ms']:.3f}"
        step_keras = "" if r["step_keras_ms"] is None else f"{r['step_keras_ms']:.3f}"
        print(f"| {r['model']} | {r['format']} | {r['size']:.2f} | {r['ms']:.1f} | "
              f"{r['keras_ms']:.1f} | {r['keras_ms'] / r['ms']:.2f} | {r['call_ms']:.1f} | "
              f"{step} | {step_keras} |")
    if not args.out:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
