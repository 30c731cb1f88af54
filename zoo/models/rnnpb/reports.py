"""Measurements of a trained RNNPB on labelled test sequences (Zhong & Yang's).

How recognised test PBs sit against the class means of the training PBs
(`recognition_report`), per-frame recognition on a stream with activity changes
(`stream_report`), and closed-loop continuation from a recognised PB
(`continuation_report`). `benchmarks/rnnpb_motion.py` prints them all.

Normalised MSE here is the mean squared error of standardised frames (the model's feature
space: each channel scaled by the training data's spread), so every channel counts alike.
"""

import time

import numpy as np
from keras import ops

from zoo.models.rnnpb.pb_space import diagonal_is_smallest, nearest_class_mean, pb_distance_table


def _labels(data):
    return np.array([data.classes[i] for i in data.labels])


def compare_with_training(model, pbs, labels=None):
    """Recognised PBs against the training PB table and its labels (`sequence_labels`).

    Args:
        model: a trained RNNPB that kept its training labels.
        pbs: `(n, pb_dim)` recognised PBs.
        labels: optional true labels of the `n` sequences.

    Returns:
        A dict: `nearest_class` (per sequence, the class whose mean training PB is
        nearest); with `labels`, also `accuracy`, `table` (the Tables IV-V distances) and
        `diagonal_smallest`. With one training class every sequence is nearest to it, so
        the accuracy is 1.0 and says nothing: it is reported as it is, not refused.
    """
    reference = model.pb_table.numpy()
    train_labels = np.array(model.sequence_labels)
    result = {"nearest_class": nearest_class_mean(reference, train_labels, pbs)}
    if labels is not None:
        labels = np.asarray(labels)
        table = pb_distance_table(pbs, labels, reference=reference, reference_labels=train_labels)
        result.update(accuracy=float(np.mean(result["nearest_class"] == labels)), table=table,
                      diagonal_smallest=diagonal_is_smallest(table))
    return result


def recognition_report(model, test, steps=400, starts=8):
    """Recognises `test` and compares it with the training PB table.

    Returns:
        A dict: `pbs` (recognised), `accuracy` (nearest class mean of the training PBs),
        `table` (the Tables IV-V distance DataFrame), `diagonal_smallest`, `errors`
        (first and last recognition error), `seconds`.
    """
    start = time.perf_counter()
    pbs, trace = model.recognize(test, steps=steps, starts=starts, verbose=0)
    seconds = time.perf_counter() - start
    labels = _labels(test)
    return {
        "pbs": pbs,
        "labels": labels,
        **compare_with_training(model, pbs, labels),
        "errors": (float(trace[0].mean()), float(trace[-1].mean())),
        "seconds": seconds,
    }


def stream_report(model, test, per_class=2, window=30, updates=5, seed=0):
    """Per-frame nearest-class-mean accuracy of `recognize_stream` on concatenated tests.

    The stream joins `per_class` test sequences of every class in a shuffled order, so the
    activity changes every sequence. Frames within one window after a change (and the
    first window) are the warm-up and are not scored.
    """
    rng = np.random.default_rng(seed)
    chosen = [i for c in range(len(test.classes))
              for i in rng.permutation(np.where(test.labels == c)[0])[:per_class]]
    chosen = list(rng.permutation(chosen))
    frames = np.concatenate([test.sequences[i] for i in chosen])
    truth = np.concatenate([[test.classes[test.labels[i]]] * len(test.sequences[i]) for i in chosen])
    scored = np.ones(len(frames), dtype=bool)
    offset = 0
    for i in chosen:
        scored[offset : offset + window] = False
        offset += len(test.sequences[i])
    start = time.perf_counter()
    pbs, _ = model.recognize_stream(frames, window=window, updates=updates, verbose=0)
    seconds = time.perf_counter() - start
    predicted = nearest_class_mean(model.pb_table.numpy(), np.array(model.sequence_labels), pbs)
    return {
        "frames": len(frames),
        "changes": len(chosen) - 1,
        "accuracy_after_warmup": float(np.mean(predicted[scored] == truth[scored])),
        "accuracy_all_frames": float(np.mean(predicted == truth)),
        "seconds": seconds,
    }


def continuation_report(model, test, context=60, horizon=20, steps=400, starts=8):
    """Normalised MSE of generating the `horizon` frames after `context` real frames.

    The PB of each test sequence is recognised on its first `context` frames; the model
    then reads those frames and runs in closed loop. The baseline repeats the last frame.
    """
    heads = [s[:context] for s in test.sequences if len(s) >= context + horizon]
    tails = [s[context : context + horizon] for s in test.sequences if len(s) >= context + horizon]
    pbs, _ = model.recognize(heads, steps=steps, starts=starts, verbose=0)
    generated = model.generate(pbs, np.stack(heads), horizon)

    def features(frames):
        return ops.convert_to_numpy(model.to_features(np.asarray(frames, "float32")))

    truth = features(np.stack(tails))
    repeat = features(np.repeat(np.stack(heads)[:, -1:], horizon, axis=1))
    return {
        "sequences": len(heads),
        "nmse_generated": float(np.mean((features(generated) - truth) ** 2)),
        "nmse_repeat_last": float(np.mean((repeat - truth) ** 2)),
    }
