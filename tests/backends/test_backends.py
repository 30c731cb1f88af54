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

import keras
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
def test_trained_files_and_the_pretrained_rnnpb_agree_across_backends(tmp_path):
    """Each backend trains and saves every model; each loads the others' files (and
    recognises BasicMotions with the pretrained RNNPB, in the same process)."""
    _wait_all({name: _on(name, "save", tmp_path) for name in BACKENDS})
    _wait_all({name: _on(name, "load", tmp_path) for name in BACKENDS})
    worst = {}
    for name in BACKENDS:
        report = json.loads((tmp_path / f"{name}.load.json").read_text())
        assert len(report) == 2 * 2 * len(list((tmp_path / "tensorflow").glob("*.keras")))
        worst.update({f"{key} -> {name}": value for key, value in report.items()})
    bad = {key: value for key, value in worst.items() if not value <= 1e-5}
    assert not bad, f"predictions differ across backends: {bad}"
    # The TensorFlow-trained RNNPB, 400 updates x 8 starts on the 40 test sequences.
    accuracy = {name: json.loads((tmp_path / f"{name}.recognise.json").read_text())["accuracy"]
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


@tensorflow_run
@pytest.mark.parametrize("cell", ["peephole_lstm", "gru", "jordan", "gated_bilinear"])
def test_the_portable_loops_are_the_reference_for_tensorflows_fast_ones(cell):
    """On TensorFlow, the XLA `while_loop` and the portable `ops.scan` loop agree: masks,
    `go_backwards`, PB, and the RNNPB's closed loop."""
    from zoo.layers import loop
    from zoo.layers.recurrent import RecurrentLayer

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 7, 4)).astype("float32")
    pb = rng.normal(size=(3, 2)).astype("float32")
    mask = np.ones((3, 7), bool)
    mask[0, 5:] = False
    mask[2, :2] = False
    make = {"peephole_lstm": zoo.layers.PeepholeLSTM, "gru": zoo.layers.GRU,
            "gated_bilinear": zoo.layers.GatedBilinear,
            "jordan": lambda units, **kw: zoo.layers.Jordan(units, output_units=3, **kw)}[cell]
    for go_backwards in (False, True):
        layer = make(5, pb_dim=2, return_sequences=True, go_backwards=go_backwards)
        assert isinstance(layer, RecurrentLayer)
        fast = np.asarray(layer(x, pb=pb, mask=mask))
        bias = layer.cell.input_bias(pb)
        states = layer.cell.get_initial_state(3)
        _, portable, _ = loop.portable_scan(layer.cell, x, states, bias, mask=mask,
                                            go_backwards=go_backwards)
        np.testing.assert_allclose(np.asarray(portable), fast, atol=1e-6)
    cell = make(5, pb_dim=2).cell
    cell.build((None, 4 + 2))
    bias = cell.input_bias(pb)
    head = keras.layers.Dense(4)  # the cell's output to the next input, as the RNNPB's readout
    head.build((None, cell.output_size))
    np.testing.assert_allclose(
        np.asarray(loop.portable_closed_loop(cell, head, x[:, :3], 5, bias)),
        np.asarray(loop.closed_loop(cell, head, x[:, :3], 5, bias)), atol=1e-6)


@tensorflow_run
def test_portable_rnnpb_recognition_matches_tensorflows_compiled_updates():
    from zoo.backend import _tensorflow
    from zoo.models.rnnpb import pb_updates

    model = zoo.get("rnnpb", weights="basic_motions")
    test = zoo.data.load_uea("BasicMotions", "test")
    z, mask = model.features_of(test.sequences[:3])
    state = [np.asarray(v, "float32") for v in (model.initial_pb(3), np.zeros((3, 2)),
                                               np.zeros((3, 2)))]
    settings = [np.float32(v) for v in (0.9, 1e-4, 1.0)]
    fast, fast_errors = pb_updates.run_updates(model, z, mask, state, settings, 6, 6)
    # The portable loop as JAX and PyTorch run it, in TensorFlow's graph mode (XLA cannot
    # compile the gradient of a loop inside a loop).
    portable = _tensorflow.function(model, lambda *a: pb_updates.portable_updates(
        model, *a, size=6), jit=False)
    *state_p, errors_p = portable(z, mask, *state, *settings, 6)
    np.testing.assert_allclose(np.asarray(state_p[0]), np.asarray(fast[0]), atol=1e-5)
    np.testing.assert_allclose(np.asarray(errors_p), fast_errors, atol=1e-6)
