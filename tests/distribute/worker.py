"""One process of the distribution tests: `python -m tests.distribute.worker MODE OUT [...]`.

Modes (the backend comes from KERAS_BACKEND):

- `devices N`: trains the test models for a few steps on one device and again on N devices
  of the split CPU; writes both runs' losses, metrics and weights to OUT (an .npz).
- `process SHARDS ID COUNT PORT`: one of COUNT JAX processes (COUNT=1: the single-process
  reference) training emotion_downup on the packed corpus; writes its weights to OUT.
- `late PORT`: process 0 of 2 whose peer never comes; writes the error to OUT.
"""

import json
import os
import sys

import numpy as np

MODE, OUT = sys.argv[1], sys.argv[2]
if MODE == "devices":
    import zoo.distribute as distribute

    distribute.split_cpu(int(sys.argv[3]))

import keras  # noqa: E402

import zoo  # noqa: E402
from zoo import distribute  # noqa: E402

STEPS_SEQUENCES, BATCH, LENGTH = 8, 4, 48


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(STEPS_SEQUENCES, LENGTH, 6)).astype("float32")
    drift = np.cumsum(x[..., :2], axis=1) / 6.0
    y = np.tanh(drift + 0.3 * x[..., 2:4]).astype("float32")
    mask = np.ones((STEPS_SEQUENCES, LENGTH), "float32")
    mask[1, 40:] = 0.0  # one padded recording
    labels = (x[:, :, 0].mean(axis=1) > 0).astype("int32") + 2 * (x[:, :, 1].mean(axis=1) > 0)
    return x, y, mask, labels


#: emotion_dilated's ten ReLU layers put out exact zeros on these 6-feature inputs at
#: initialisation (a CCC of 0 everywhere, no gradient to compare), so it runs four deep.
SETTINGS = {"emotion_dilated": {"depth": 4}}


def _regressor(name):
    model = zoo.get(name, input_dim=6, outputs=2, **SETTINGS.get(name, {}))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=zoo.losses.CCCLoss(),
                  weighted_metrics=[zoo.metrics.CCC(), zoo.metrics.RMSE()])
    return model


def _classifier(name):
    model = zoo.get(name, input_dim=6, classes=4, units=8)
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _fit_and_score(model, data, eval_data):
    import tensorflow as tf

    history = model.fit(tf.data.Dataset.from_tensor_slices(data).batch(BATCH), epochs=2,
                        verbose=0, shuffle=False)
    scores = model.evaluate(tf.data.Dataset.from_tensor_slices(eval_data).batch(BATCH),
                            verbose=0, return_dict=True)
    return history.history, scores


def _run(context):
    """Every model trained under `context` (a fresh seed each): name -> arrays."""
    x, y, mask, labels = _data()
    results = {}
    for name in ("emotion_downup", "emotion_dilated", "gru_regressor"):
        keras.utils.set_random_seed(0)
        with context():
            model = _regressor(name)
        history, scores = _fit_and_score(model, (x, y, mask), (x, y, mask))
        results[name] = (history, scores, model.get_weights())
    for name in ("gru_classifier", "peephole_lstm_classifier"):
        keras.utils.set_random_seed(0)
        with context():
            model = _classifier(name)
        history, scores = _fit_and_score(model, (x, labels), (x, labels))
        results[name] = (history, scores, model.get_weights())
    keras.utils.set_random_seed(0)
    sequences = [s[: 30 + i] for i, s in enumerate(x[:, :, :3])]
    with context():  # no dropout: its random masks differ with the device count
        model = zoo.get("rnnpb", units=8, pb_dim=2, dropout=0.0)
        model.build((len(sequences), None, 3))
        model.compile()
        history = model.fit(sequences, epochs=3, batch_size=BATCH, shuffle=False, verbose=0)
        pbs, trace = model.recognize(sequences[:4], steps=20, verbose=0)
    results["rnnpb"] = (history.history, {"recognition_error": trace[-1]},
                        model.get_weights() + [pbs])
    # The form Keras documents: made and compiled in the scope, `fit` outside it. The
    # model is built by that fit, so the PB table is made there, under its own strategy.
    keras.utils.set_random_seed(0)
    with context():
        model = zoo.get("rnnpb", units=8, pb_dim=2, dropout=0.0)
        model.compile()
    history = model.fit(sequences, epochs=3, batch_size=BATCH, shuffle=False, verbose=0)
    pbs, trace = model.recognize(sequences[:4], steps=20, verbose=0)
    results["rnnpb_outside"] = (history.history, {"recognition_error": trace[-1]},
                                model.get_weights() + [pbs])
    strategy = getattr(model, "distribute_strategy", None)       # TensorFlow's trainer
    results["rnnpb_outside_replicas"] = ({}, {"replicas": float(
        strategy.num_replicas_in_sync if strategy is not None else 0)}, [])
    # 5 sequences in batches of 4: a last batch of one. On TensorFlow one replica gets no
    # sequence and adds nothing; keras.distribution on JAX refuses it before the first step.
    with context():
        model = zoo.get("rnnpb", units=8, pb_dim=2)
        model.build((5, None, 3))
        model.compile()
        try:
            model.fit(sequences[:5], epochs=1, batch_size=BATCH, shuffle=False, verbose=0)
            outcome = float(all(np.isfinite(w).all() for w in model.get_weights()))
        except ValueError as error:
            outcome = 2.0 if "give a batch of 1" in str(error) else 0.0
    results["rnnpb_uneven"] = ({}, {"outcome": outcome}, [])
    return results


def _flatten(results):
    flat = {}
    for name, (history, scores, weights) in results.items():
        for key, values in history.items():
            flat[f"{name}/history/{key}"] = np.asarray(values, "float64")
        for key, value in scores.items():
            flat[f"{name}/score/{key}"] = np.asarray(value, "float64")
        for i, weight in enumerate(weights):
            flat[f"{name}/weight/{i}"] = np.asarray(weight, "float64")
    return flat


def devices(count):
    import contextlib

    one = _flatten(_run(contextlib.nullcontext))
    several = _flatten(_run(lambda: distribute.devices(count)))
    with distribute.devices(count) as strategy:  # how many devices the runs really used
        used = (strategy.num_replicas_in_sync if hasattr(strategy, "num_replicas_in_sync")
                else strategy.device_mesh.devices.size)
    np.savez(OUT, used=used, **{f"one:{k}": v for k, v in one.items()},
             **{f"several:{k}": v for k, v in several.items()})


def process(shards, process_id, count, port):
    distribute.initialize(f"127.0.0.1:{port}", count, process_id, timeout=60)
    keras.utils.set_random_seed(0)
    with distribute.devices("all"):
        model = _regressor("emotion_downup")
        data = zoo.data.stream(shards, split="train", batch_size=BATCH // count, shuffle=False,
                               workers=distribute.worker() or (1, 0))
        history = model.fit(data, epochs=2, verbose=0)
    np.savez(OUT, loss=np.asarray(history.history["loss"]),
             **{f"weight/{i}": w for i, w in enumerate(model.get_weights())})


def late(port):
    try:
        distribute.initialize(f"127.0.0.1:{port}", 2, 0, timeout=3)
    except distribute.DistributedError as error:
        with open(OUT, "w") as handle:
            json.dump({"error": str(error)}, handle)
        return
    raise SystemExit("initialize returned without its peer")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if MODE == "devices":
        devices(int(sys.argv[3]))
    elif MODE == "process":
        process(sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    elif MODE == "late":
        late(int(sys.argv[3]))
    else:
        raise SystemExit(f"unknown mode {MODE!r}")
