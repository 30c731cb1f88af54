"""Training time per epoch: dilated and down/up conv regressors against a BLSTM.

AVEC 2016-sized data (9 recordings x 7501 frames x 160 features, batch size 1, whole
recordings), models of about the same parameter count, all measured in one run. The BLSTM is
`keras.layers.Bidirectional(keras.layers.LSTM(...))` with Keras defaults. Khorram et al.
(2017) report 13 s against 10 min per epoch (46x) on their GPU.

    python benchmarks/conv_vs_blstm.py [--repeats 5] [--blstm-repeats 3]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from zoo.data.synthetic import recola_like  # noqa: E402
from zoo.models.emotion.evaluation import dataset  # noqa: E402


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def epoch_seconds(model, data, repeats):
    """Median seconds per training epoch, after one untimed warm-up epoch (tracing)."""
    model.compile(optimizer="adam", loss=zoo.losses.CCCLoss())
    timer = EpochTimer()
    model.fit(data, epochs=repeats + 1, verbose=0, callbacks=[timer])
    return statistics.median(timer.seconds[1:]), timer.seconds[1:]


def predict_ms(model, x, repeats=30):
    run = tf.function(lambda v: model(v, training=False))
    run(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(x).numpy()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed conv epochs")
    parser.add_argument("--blstm-repeats", type=int, default=3, help="timed BLSTM epochs")
    parser.add_argument("--blstm-units", type=int, default=20)
    args = parser.parse_args()

    corpus = recola_like(train=9, dev=0, length=7501, input_dim=160).znorm()
    data = dataset(corpus, batch_size=1)
    keras.utils.set_random_seed(0)
    models = {
        "emotion_dilated": zoo.get("emotion_dilated"),
        "emotion_downup": zoo.get("emotion_downup"),
        "emotion_blstm": zoo.get("emotion_blstm", units=args.blstm_units, depth=1),
    }
    print(f"tensorflow {tf.__version__}, keras {keras.__version__}, "
          f"{os.cpu_count()} CPU cores; 9 recordings x 7501 frames x 160 features, batch 1")
    results = {}
    for name, model in models.items():
        repeats = args.blstm_repeats if name == "emotion_blstm" else args.repeats
        median, all_runs = epoch_seconds(model, data, repeats)
        results[name] = median
        runs = ", ".join(f"{s:.2f}" for s in all_runs)
        print(f"{name:16s} params {model.count_params():7d}  epoch {median:8.2f} s "
              f"(median of {repeats}: {runs})", flush=True)
    blstm = results["emotion_blstm"]
    for name in ("emotion_dilated", "emotion_downup"):
        print(f"speed-up per epoch, {name} vs BLSTM: {blstm / results[name]:.1f}x "
              f"(target >= 50x; paper 46x)")
    x = tf.constant(corpus.features[0][None])
    print(f"emotion_downup predicts one 7501-frame recording in "
          f"{predict_ms(models['emotion_downup'], x):.1f} ms (median of 30; target < 50 ms)")


if __name__ == "__main__":
    main()
