"""Every reader, fed damaged files (truncation, byte flips, inserted text and bytes, deep
nesting, huge numbers, unicode): only zoo's documented errors escape (`ValueError`s:
`zoo.FileError`, `ShardError`, ...), and each message names the file."""

import argparse
import gzip
import io
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zoo
from zoo.cli.args import setting
from zoo.data import load_avec, read_ts, save_avec, shards
from zoo.data.synthetic import recola_like

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

NASTY = st.sampled_from(["\x00", "é", "\u2028", "{" * 300, "[" * 300, "1e400", "NaN",
                         "-Infinity", '"', "\\", "\n\n", "@data", "#", ":", ",,,", "9" * 400])


@st.composite
def damaged(draw, data):
    """`data` damaged one way or a few."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["cut", "flip", "insert", "nasty", "replace"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if how == "cut":
            data = data[:at]
        elif how == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=20))
        elif how == "nasty":
            data[at:at] = draw(NASTY).encode()
        else:
            data = bytearray(draw(st.text(max_size=60)).encode())
    return bytes(data)


def _names_the_file(error, path):
    assert isinstance(error, ValueError), f"{type(error).__name__}: {error}"
    assert Path(path).name in str(error), str(error)
    # Under 300 characters besides the file's own path (which is the user's length).
    assert len(str(error).replace(str(path), "")) < 300, str(error)


def _read(reader, path):
    try:
        reader()
    except Exception as error:  # what escapes is the point of the test
        _names_the_file(error, path)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    save_avec(recola_like(train=2, dev=1, length=30, input_dim=2, seed=0), root / "avec")
    zoo.data.pack(root / "avec", root / "pack")
    bundled = Path(zoo.data.uea.__file__).with_name("bundled")
    ts = gzip.decompress((bundled / "BasicMotions_TRAIN.ts.gz").read_bytes())
    ts = ts[:ts.index(b"\n", 6000) + 1]
    zoo.get("elman_regressor", input_dim=2, outputs=1, units=2).save(root / "m.keras")
    buffer = io.BytesIO()
    np.savez(buffer, frames=np.ones((6, 13), "float32"), lengths=np.array([2, 4]),
             labels=np.array([3, 7]))
    return Sources(root=root, ts=ts, npz=buffer.getvalue(),
                   manifest=(zoo.pretrained.shipped_directory() / "manifest.json").read_bytes())


class Sources(dict):
    """The valid files the tests damage (a short repr for hypothesis's reports)."""

    def __repr__(self):
        return f"Sources({sorted(self)})"


def _scratch(sources):
    return Path(tempfile.mkdtemp(dir=sources["root"]))


@FUZZ
@given(data=st.data())
def test_ts_files(sources, data):
    path = _scratch(sources) / "set.ts"
    path.write_bytes(data.draw(damaged(sources["ts"])))
    _read(lambda: read_ts(path), path)


@FUZZ
@given(data=st.data())
def test_avec_folders(sources, data):
    folder = _scratch(sources) / "avec"
    shutil.copytree(sources["root"] / "avec", folder)
    victim = data.draw(st.sampled_from(sorted(folder.rglob("*.csv"))))
    victim.write_bytes(data.draw(damaged(victim.read_bytes())))
    _read(lambda: load_avec(folder), victim)


@FUZZ
@given(data=st.data())
def test_shard_indexes(sources, data):
    folder = _scratch(sources) / "pack"
    shutil.copytree(sources["root"] / "pack", folder)
    index = folder / "index.json"
    index.write_bytes(data.draw(damaged(index.read_bytes())))
    _read(lambda: shards.read_index(folder), folder)  # the index, or a shard it misdescribes


@FUZZ
@given(data=st.data())
def test_manifests(sources, data):
    folder = _scratch(sources)
    (folder / "manifest.json").write_bytes(data.draw(damaged(sources["manifest"])))
    _read(lambda: zoo.pretrained.read_entries(folder), folder / "manifest.json")


@FUZZ
@given(data=st.data())
def test_model_files(sources, data):
    path = _scratch(sources) / "model.keras"
    original = (sources["root"] / "m.keras").read_bytes()
    if data.draw(st.booleans()):  # damage one member, the archive staying whole
        member = data.draw(st.sampled_from(["config.json", "metadata.json", "model.weights.h5"]))
        with zipfile.ZipFile(io.BytesIO(original)) as old, zipfile.ZipFile(path, "w") as new:
            for name in old.namelist():
                body = old.read(name)
                new.writestr(name, data.draw(damaged(body)) if name == member else body)
    else:
        path.write_bytes(data.draw(damaged(original)))
    _read(lambda: zoo.load_model(path), path)


@FUZZ
@given(data=st.data())
def test_npz_datasets(sources, data, monkeypatch):
    folder = _scratch(sources)
    monkeypatch.setenv("ZOO_DATA", str(folder))
    path = folder / zoo.data.datasets.DIGITS_FILE
    path.write_bytes(data.draw(damaged(sources["npz"])))
    _read(lambda: zoo.data.load_spoken_digits("train"), path)


@FUZZ
@given(data=st.data())
def test_export_cards(sources, data):
    folder = _scratch(sources) / "export"
    (folder / "assets").mkdir(parents=True)
    card = folder / "assets" / "zoo_card.json"
    card.write_bytes(data.draw(damaged(b'{"zoo_export": 1, "format": "saved_model"}')))
    _read(lambda: zoo.export.read_card(folder), card)


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_text_corpora(sources, data):
    folder = _scratch(sources)
    text = folder / "play.txt"
    text.write_bytes(data.draw(damaged(("To be, or not to be: that is the question.\n" * 8)
                                       .encode())))
    _read(lambda: zoo.data.pack(text, folder / "shards", window=20), text)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(value=st.one_of(st.text(max_size=30), NASTY))
def test_set_values(value):
    try:
        key, _ = setting(f"units={value}")
    except argparse.ArgumentTypeError as error:
        assert str(error).startswith("units: ")
    else:
        assert key == "units"


def test_the_cli_reports_each_damaged_file_in_one_line(sources, capsys):
    from zoo.cli import main

    folder = _scratch(sources)
    (folder / "bad.ts").write_bytes(sources["ts"].replace(b":Standing\n", b":" + b"9" * 5000
                                                          + b"\n", 1))
    shutil.copytree(sources["root"] / "pack", folder / "pack")
    (folder / "pack" / "index.json").write_text("[" * 100_000 + "]" * 100_000)
    shutil.copytree(sources["root"] / "avec", folder / "avec")
    victim = sorted((folder / "avec" / "features").glob("*.csv"))[0]
    victim.write_text(victim.read_text().replace("\n", "\n" + "x" * 3000 + ",", 2))
    (folder / "manifest.json").write_text('{"format": 1, "entries": {"a.b": NaN}}')
    for argv, named in [
        (["data", "pack", str(folder / "bad.ts"), "--out", str(folder / "s1")], "bad.ts"),
        (["data", "info", str(folder / "pack")], "index.json"),
        (["data", "pack", str(folder / "avec"), "--out", str(folder / "s2")], victim.name),
        (["train", "emotion_downup", "--data", str(folder / "avec"), "--out",
          str(folder / "r")], victim.name),
        (["train", "emotion_downup", "--data", "recola_like", "--out", str(folder / "r"),
          "--set", "filters=" + "[" * 5000], "--set: filters: the value nests too deep"),
    ]:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert named in err and err.count("\n") == 1 and "Traceback" not in err, err
        assert len(err.replace(str(folder), "")) < 300, err
    with pytest.raises(ValueError, match="manifest.json holds NaN"):
        zoo.pretrained.read_entries(folder)
    assert not [p for p in folder.iterdir() if p.name.startswith(("s1", "s2", "r"))]
