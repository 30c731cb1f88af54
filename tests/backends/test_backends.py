"""Across the Keras backends: files saved on one load on the others with the same
predictions, the pretrained RNNPB recognises alike everywhere, and TensorFlow-only
features say which backend they need.

The cross-backend tests start one process per backend (the backend is fixed when Keras
is first imported), each under a hard timeout; they run from the TensorFlow suite.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo import backend

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = ("tensorflow", "jax", "torch")
tensorflow_run = pytest.mark.skipif(backend.name() != "tensorflow",
                                    reason="starts the other backends from the TensorFlow run")


def _on(name, *args, timeout=600):
    """Runs `python -m tests.backends.exchange ARGS` under backend `name`; started, not waited."""
    env = {**os.environ, "KERAS_BACKEND": name, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": "1",
           "CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen([sys.executable, "-m", "tests.backends.exchange", *map(str, args)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def _wait_all(processes, timeout=600):
    for name, process in processes.items():
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for p in processes.values():
                p.kill()
            pytest.fail(f"the {name} process did not finish within {timeout} s")
        assert process.returncode == 0, f"{name} failed:\n{output[-4000:]}"


@tensorflow_run
def test_files_saved_on_each_backend_load_on_every_other_with_the_same_predictions(tmp_path):
    _wait_all({name: _on(name, "save", tmp_path) for name in BACKENDS})
    _wait_all({name: _on(name, "load", tmp_path) for name in BACKENDS})
    worst = {}
    for name in BACKENDS:
        report = json.loads((tmp_path / f"{name}.load.json").read_text())
        assert len(report) == 2 * 2 * len(list((tmp_path / "tensorflow").glob("*.keras")))
        worst.update({f"{key} -> {name}": value for key, value in report.items()})
    bad = {key: value for key, value in worst.items() if not value <= 1e-5}
    assert not bad, bad


@tensorflow_run
def test_the_pretrained_rnnpb_recognises_basic_motions_alike_on_every_backend(tmp_path):
    processes = {name: _on(name, "recognise", tmp_path / f"{name}.json") for name in BACKENDS}
    _wait_all(processes)
    accuracy = {name: json.loads((tmp_path / f"{name}.json").read_text())["accuracy"]
                for name in BACKENDS}
    card = zoo.pretrained.card("rnnpb.basic_motions")["metrics"]["nearest_class_accuracy"]
    for name in ("jax", "torch"):
        assert abs(accuracy[name] - accuracy["tensorflow"]) <= 0.05, accuracy
    assert abs(accuracy["tensorflow"] - card) <= 0.075, (accuracy, card)


@pytest.mark.portable
def test_tensorflow_only_features_name_their_backend(tmp_path):
    if backend.name() == "tensorflow":
        backend.require("anything")  # no error on the backend it needs
        with pytest.raises(backend.BackendError, match="needs the jax Keras backend"):
            backend.require("A JAX feature", "jax")
        return
    model = zoo.get("gru_regressor", input_dim=3, outputs=1, units=4)
    model.predict(np.zeros((1, 5, 3), "float32"), verbose=0)
    needs = rf"needs the tensorflow Keras backend; this process runs on '{backend.name()}'"
    with pytest.raises(backend.BackendError, match=needs):
        zoo.export.export(model, tmp_path / "m", format="saved_model")
    with pytest.raises(backend.BackendError, match=needs):
        zoo.hub.HubEncoder(str(tmp_path))
    with pytest.raises(backend.BackendError, match=needs):
        zoo.hub.load_module(str(tmp_path))
    with pytest.raises(backend.BackendError, match=needs):
        zoo.get("minilm_valence")
