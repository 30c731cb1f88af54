"""Run by `test_backends.py` in a process of its own per backend (`KERAS_BACKEND`):

    python -m tests.backends.exchange save FOLDER   # every model, saved by this backend
    python -m tests.backends.exchange load FOLDER   # every other backend's files, here,
                                                    # and the pretrained RNNPB's recognition

`save` trains every model briefly on this backend and writes `<backend>/<model>.keras`,
`.weights.h5` and the predictions on a fixed input; `load` loads both files of every other
backend and writes the largest prediction difference per file to `<backend>.load.json`,
then recognises the BasicMotions test split with the pretrained RNNPB
(`<backend>.recognise.json`).
"""

import json
import sys
from pathlib import Path

import keras
import numpy as np
from keras import ops

import zoo
from tests.models.test_all_models import MODELS, _case

# The MiniLM text model is TensorFlow-only (test_tensorflow_only_features_name_their_backend).
# A cell's classifier and regressor share the cell layer and differ by the head only: every
# classifier is exchanged, and the regressors of two cells (a gated one and a tensor one)
# stand for the per-frame head, which saves a fifth of the three processes' time.
REGRESSORS = ("gru_regressor", "gated_bilinear_regressor")
EXCHANGED = [name for name in MODELS if name != "minilm_valence" and (
    not name.endswith("_regressor") or name in REGRESSORS)]

BACKENDS = ("tensorflow", "jax", "torch")


def _predict(model, x):
    return ops.convert_to_numpy(model(x, training=False)).astype("float64")


def _train(name, model, x, y, loss):
    """One epoch of the fit `test_all_models` runs. On TensorFlow without XLA: compiling
    one step for each of 19 models cost 7 of this process's 38 s, and the files do not
    depend on it (JAX keeps its default, which is faster than running op by op)."""
    jit = {"jit_compile": False} if keras.backend.backend() == "tensorflow" else {}
    if name == "rnnpb":
        model.compile(optimizer="adam", **jit)
        model.fit(x["frames"], epochs=1, verbose=0)
    else:
        model.compile(optimizer="adam", loss=loss, **jit)
        model.fit(x, y, epochs=1, verbose=0)


def save(folder):
    here = Path(folder) / keras.backend.backend()
    here.mkdir(parents=True)
    for name in EXCHANGED:
        keras.utils.set_random_seed(0)
        model, x, y, loss = _case(name)
        _predict(model, x)  # builds
        rng = np.random.default_rng(1)
        for weight in model.weights:  # the same non-trivial weights on every backend
            if weight.trainable:
                weight.assign(rng.normal(scale=0.3, size=weight.shape).astype(weight.dtype))
        _train(name, model, x, y, loss)  # then trained on this backend
        model.save(here / f"{name}.keras")
        model.save_weights(here / f"{name}.weights.h5")
        np.save(here / f"{name}.npy", _predict(model, x))


def load(folder):
    folder = Path(folder)
    mine = keras.backend.backend()
    report = {}
    for other in BACKENDS:
        if other == mine:
            continue
        for name in EXCHANGED:
            if not (folder / other / f"{name}.keras").exists():
                continue  # a TensorFlow-only model
            keras.utils.set_random_seed(0)
            model, x, _, _ = _case(name)
            want = np.load(folder / other / f"{name}.npy")
            # A compiled file from PyTorch names Keras's torch optimizer module
            # (keras.src.backend.torch.optimizers), which other backends cannot use:
            # such files load without their training configuration.
            loaded = keras.models.load_model(folder / other / f"{name}.keras",
                                             compile=other != "torch")
            _predict(model, x)
            model.load_weights(folder / other / f"{name}.weights.h5")
            report[f"{other}/{name}.keras"] = float(np.abs(_predict(loaded, x) - want).max())
            report[f"{other}/{name}.weights.h5"] = float(np.abs(_predict(model, x) - want).max())
    (folder / f"{mine}.load.json").write_text(json.dumps(report, indent=1))
    recognise(folder / f"{mine}.recognise.json")


def recognise(out):
    from zoo.models.rnnpb.reports import recognition_report

    model = zoo.get("rnnpb", weights="basic_motions")
    test = zoo.data.load_uea("BasicMotions", "test")
    report = recognition_report(model, test, steps=400, starts=8)
    Path(out).write_text(json.dumps({"accuracy": report["accuracy"],
                                     "seconds": report["seconds"]}))


if __name__ == "__main__":
    command, path = sys.argv[1:3]
    {"save": save, "load": load}[command](path)
