"""One place opens a model file (`zoo.load_model`, every verb): a damaged or hostile
`.keras` file is one `zoo.FileError` naming the file and the member, before Keras reads it."""

import json
import pickle
import zipfile

import keras
import numpy as np
import pytest

import zoo
from zoo.cli import main


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "good.keras"
    zoo.get("elman_regressor", input_dim=3, outputs=2, units=3).save(path)
    return path


def _rewrite(source, dest, change=None, drop=(), stored=False):
    """A copy of the archive `source` with members changed (`change(name, data)`)."""
    mode = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(dest, "w", mode) as new:
        for name in old.namelist():
            if name in drop:
                continue
            data = old.read(name)
            new.writestr(name, change(name, data) if change else data)
    return dest


def _flip_inside(path, member):
    """Flips one byte of a stored member's data: the CRC-32 no longer matches."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    data = bytearray(path.read_bytes())
    offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[offset + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _with_config(good, dest, edit):
    def change(name, data):
        if name != "config.json":
            return data
        config = json.loads(data)
        edit(config)
        return json.dumps(config).encode()

    return _rewrite(good, dest, change)


def _activation(value):
    def edit(config):
        config["config"]["activation"] = value
    return edit


CASES = {
    "bad CRC in config.json": (
        lambda good, d: _flip_inside(_rewrite(good, d, stored=True), "config.json"),
        "member config.json fails its CRC-32 check"),
    "bad CRC in the weights": (
        lambda good, d: _flip_inside(_rewrite(good, d, stored=True), "model.weights.h5"),
        "member model.weights.h5 fails its CRC-32 check"),
    "no config.json": (lambda good, d: _rewrite(good, d, drop=("config.json",)),
                       "has no config.json"),
    "not a zip": (lambda good, d: (d.write_bytes(b"not a zip archive at all"), d)[1],
                  "is not a .keras file"),
    "config not JSON": (lambda good, d: _rewrite(good, d, lambda n, b: b"{bad" if
                                                 n == "config.json" else b),
                        "config.json is not valid JSON (Expecting property name"),
    "config nested 100,000 deep": (
        lambda good, d: _rewrite(good, d, lambda n, b: b"[" * 100_000 + b"]" * 100_000
                                 if n == "config.json" else b),
        "config.json nests deeper than 200 levels"),
    "os.system as an activation": (
        lambda good, d: _with_config(good, d, _activation(
            {"module": "os", "class_name": "function", "config": "system",
             "registered_name": "system"})),
        "names `os.system` as 'activation'"),
    "builtins.eval as an activation": (
        lambda good, d: _with_config(good, d, _activation(
            {"module": "builtins", "class_name": "function", "config": "eval",
             "registered_name": "function"})),
        "names `builtins.eval` as 'activation'"),
    "a __lambda__ initializer": (
        lambda good, d: _with_config(good, d, _activation(
            {"module": None, "class_name": "__lambda__",
             "config": {"code": "print(1)", "defaults": None, "closure": None}})),
        "names Python code as 'activation'"),
    "enable_unsafe_deserialization": (
        lambda good, d: _with_config(good, d, _activation(
            {"module": "keras.config", "class_name": "function",
             "config": "enable_unsafe_deserialization", "registered_name": "function"})),
        "names `keras.config.enable_unsafe_deserialization`"),
    "weights that are a pickle": (
        lambda good, d: _rewrite(good, d, lambda n, b: pickle.dumps({"w": [1, 2]})
                                 if n == "model.weights.h5" else b),
        "model.weights.h5 is not an HDF5 file (it looks like a pickle)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_damaged_or_hostile_model_file_is_one_file_error(good, tmp_path, capsys, case):
    make, text = CASES[case]
    path = make(good, tmp_path / "bad.keras")
    with pytest.raises(zoo.FileError) as caught:
        zoo.load_model(path)
    message = str(caught.value)
    assert text in message and str(path) in message, message
    assert len(message) < 300, message
    verbs = [["evaluate", str(path), "--data", "recola_like"]]
    if case == "bad CRC in config.json":  # every verb opens files the same way
        verbs += [["export", str(path), "--format", "saved_model", "--out", str(tmp_path / "e")],
                  ["recognize", str(path), "--data", "BasicMotions", "--out", str(tmp_path)]]
    for argv in verbs:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("zoo: ") and text in err and err.count("\n") == 1, err
        assert "Traceback" not in err and len(err) < 310, err
    assert not (tmp_path / "e").exists()


def test_zoo_files_still_load_with_keras_in_safe_mode(good):
    x = np.ones((1, 4, 3), "float32")
    np.testing.assert_array_equal(keras.models.load_model(good).predict(x, verbose=0),
                                  zoo.load_model(good).predict(x, verbose=0))


@pytest.mark.parametrize("handle, text", [
    ("mod\x00ule", "holds the control character \\x00 at position 3"),
    ("m" * 10_000, "(10000 characters)"),
])
def test_hostile_hub_handles_are_named_briefly(tmp_path, handle, text):
    with pytest.raises(ValueError) as caught:
        zoo.hub.HubEncoder(handle)
    assert text in str(caught.value) and len(str(caught.value)) < 300, str(caught.value)


def test_a_path_with_a_nul_byte_is_named_not_passed_on(capsys):
    assert main(["evaluate", "bad\x00.keras", "--data", "recola_like"]) == 2
    err = capsys.readouterr().err
    assert "control character \\x00 at position 3" in err and err.count("\n") == 1, err


def _hub_file(path, handle):
    """A `.keras` file whose HubEncoder names `handle` (no module behind it)."""
    layer = {"module": "zoo.hub", "class_name": "HubEncoder", "registered_name": "zoo>HubEncoder",
             "config": {"name": "enc", "handle": handle, "endpoint": None, "output_key": None,
                        "train_only": None, "trainable": False}}
    config = {"module": "keras", "class_name": "Sequential", "registered_name": None,
              "config": {"name": "s", "layers": [
                  {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
                   "config": {"batch_shape": [None, 3], "dtype": "float32", "name": "in"}},
                  layer]}}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", json.dumps({"keras_version": keras.__version__}))
    return path


@pytest.mark.parametrize("handle, text", [
    ("/srv/mod\x00ule", "holds the control character \\x00"),
    ("/" + "m" * 10_000, "(10001 characters)"),
])
def test_hostile_handles_in_a_file_are_one_short_line(tmp_path, capsys, handle, text):
    path = _hub_file(tmp_path / "hub.keras", handle)
    for argv in (["evaluate", str(path), "--data", "recola_like"],
                 ["evaluate", str(tmp_path / "x.keras"), "--data", "recola_like",
                  "--trust-hub", handle]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert len(err.replace(str(tmp_path), "")) < 300, err
    assert main(["evaluate", str(path), "--data", "recola_like"]) == 2
    assert text in capsys.readouterr().err
