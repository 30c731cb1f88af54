"""Converted real sets: the loaders, and the restricted unpickler of the HAPT archive."""

import importlib.util
import io
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import zoo

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "convert_datasets.py"


def _script():
    spec = importlib.util.spec_from_file_location("convert_datasets", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATA", str(tmp_path))
    return tmp_path


def test_missing_or_damaged_files_and_bad_settings_are_named(data_home):
    with pytest.raises(FileNotFoundError, match="scripts/convert_datasets.py"):
        zoo.data.load_spoken_digits()
    with pytest.raises(ValueError, match="'train' or 'test'"):
        zoo.data.load_hapt("dev")
    np.savez(data_home / "spoken_digits.npz", frames=np.zeros((10, 13), "float32"),
             lengths=np.array([5, 5]), labels=np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="differ in length"):
        zoo.data.load_spoken_digits()
    np.savez(data_home / "spoken_digits.npz", frames=np.zeros((10, 13), "float32"),
             lengths=np.array([5, 6]), labels=np.array([1, 2]))
    with pytest.raises(ValueError, match="add up to 11 frames but the file holds 10"):
        zoo.data.load_spoken_digits()
    with pytest.raises(ValueError, match="`test_share` must be between 0 and 1"):
        zoo.data.load_spoken_digits(test_share=1.5)
    with pytest.raises(ValueError, match="`every` must be"):
        zoo.data.load_hapt(every=0)
    (data_home / "hapt_segments.npz").write_bytes(b"not a zip")  # read as a pickle? refused
    with pytest.raises(ValueError, match="hapt_segments.npz is not a plain array file"):
        zoo.data.load_hapt()
    np.savez(data_home / "spoken_digits.npz", frames=np.array([{"a": 1}], dtype=object),
             lengths=np.array([1]), labels=np.array([1]))
    with pytest.raises(ValueError, match="nothing was run from it"):
        zoo.data.load_spoken_digits()


def test_digit_split_is_stratified_and_disjoint(data_home):
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 9, size=50)
    frames = np.arange(lengths.sum() * 13, dtype="float32").reshape(-1, 13)
    np.savez(data_home / "spoken_digits.npz", frames=frames, lengths=lengths,
             labels=np.repeat(np.arange(10), 5))
    train, test = zoo.data.load_spoken_digits("train"), zoo.data.load_spoken_digits("test")
    assert (len(train), len(test)) == (40, 10)
    assert np.bincount(test.labels).tolist() == [1] * 10
    firsts = {float(s[0, 0]) for s in train.sequences}
    assert firsts.isdisjoint(float(s[0, 0]) for s in test.sequences)
    assert sum(len(s) for s in train.sequences + test.sequences) == len(frames)


def test_hapt_splits_by_subject_and_crops_the_middle(data_home):
    subjects = np.repeat(np.arange(1, 11), 3)
    lengths = np.full(30, 600)
    frames = np.tile(np.arange(600, dtype="float32")[:, None], (30, 6))
    labels = np.tile([0, 3, 8], 10)  # two activities and one transition per subject
    np.savez(data_home / "hapt_segments.npz", frames=frames, lengths=lengths, labels=labels,
             subjects=subjects, classes=np.array([f"c{i}" for i in range(12)]))
    train, test = zoo.data.load_hapt("train"), zoo.data.load_hapt("test")
    assert (len(train), len(test)) == (14, 6)  # 7 and 3 subjects, transitions left out
    assert len(zoo.data.load_hapt("test", activities=12)) == 9
    segment = train.sequences[0]
    assert segment.shape == (100, 6)  # 600 samples -> 120 at 10 Hz -> the middle 100
    assert segment[0, 0] == 50.0 and segment[1, 0] - segment[0, 0] == 5.0


def test_unpickler_refuses_foreign_code_and_reads_arrays():
    script = _script()
    hostile = pickle.dumps(os.system)  # would name posix.system
    with pytest.raises(pickle.UnpicklingError, match="refused global"):
        script.RestrictedUnpickler(io.BytesIO(hostile)).load()
    array = np.arange(6.0).reshape(2, 3)
    loaded = script.RestrictedUnpickler(io.BytesIO(pickle.dumps(array, protocol=2))).load()
    np.testing.assert_array_equal(loaded, array)
