"""`--overwrite` replaces only an earlier output of the same verb, never what zoo did not
write (zoo.files.check_out): each case leaves the user's files byte-identical."""

import os
import shutil
from pathlib import Path

import pytest

import zoo
from zoo.cli import main
from zoo.data import save_avec
from zoo.data.synthetic import recola_like
from zoo.files import OverwriteError, check_out


def _tree(folder):
    """Every file under `folder` (relative path -> bytes), and every folder."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
            for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    """A user's folder: an AVEC folder A, a pack P made from it (plus a note of theirs), and
    a model file D/model.keras beside their other work."""
    root = tmp_path_factory.mktemp("user")
    save_avec(recola_like(train=2, dev=1, length=120, input_dim=3, seed=0), root / "A")
    zoo.data.pack(root / "A", root / "P")
    (root / "P" / "notes.txt").write_text("what I packed and why\n")
    (root / "D").mkdir()
    zoo.get("elman_regressor", input_dim=3, outputs=2, units=3).save(root / "D" / "model.keras")
    (root / "D" / "metrics.json").write_text('{"mine": 1}\n')
    return root


def _refused(capsys, argv, text):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert text in err, err
    assert err.count("\n") == 1 and "Traceback" not in err and len(err) < 400, err


@pytest.mark.parametrize("argv, text", [
    (["export", "D/model.keras", "--format", "litert", "--steps", "10", "--out", "D/model.keras",
      "--overwrite"], "is the source"),
    (["export", "D/model.keras", "--format", "saved_model", "--out", "D", "--overwrite"],
     "holds the source"),
    (["export", "D/model.keras", "--format", "saved_model", "--out", "A", "--overwrite"],
     "it holds features/, labels/, which zoo did not write there"),
    (["export", "D/model.keras", "--format", "onnx", "--out", "D/metrics.json", "--overwrite"],
     "carries no zoo card"),
    (["data", "pack", "A", "--out", "P", "--overwrite"], "notes.txt"),
    (["data", "pack", "avec2016:P/avec", "--out", "P", "--overwrite"], "holds the source"),
    (["data", "pack", "A", "--out", "A/features", "--overwrite"], "inside the source"),
    (["demo", "--out", "D", "--epochs", "1"], "pass --overwrite"),
    (["demo", "--out", "D", "--epochs", "1", "--overwrite"], "no demo.json"),
    (["export", "D/model.keras", "--format", "saved_model", "--out", "", "--overwrite"],
     "--out is empty"),
    (["export", "D/model.keras", "--format", "saved_model", "--out", ".", "--overwrite"],
     "is the working directory"),
    (["data", "pack", "A", "--out", "..", "--overwrite"], "contains the working directory"),
    (["train", "emotion_downup", "--data", "avec2016:A", "--out", "A", "--overwrite"],
     "is the source"),
    (["train", "emotion_downup", "--data", "A", "--out", "D", "--overwrite"],
     "no run.json"),
])
def test_overwrite_refuses_what_zoo_did_not_write(user, capsys, monkeypatch, argv, text):
    if "avec2016:P/avec" in argv:
        shutil.copytree(user / "A", user / "P" / "avec", dirs_exist_ok=True)
    before = _tree(user.parent)
    monkeypatch.chdir(user)
    _refused(capsys, argv, text)
    assert _tree(user.parent) == before  # nothing changed, nothing left beside


def test_check_out_strips_prefixes_and_guards_home_and_root(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "src").mkdir(parents=True)
    (tmp_path / "home" / "src" / "x").write_text("x")
    never = lambda path: None  # noqa: E731 (even an "earlier output" is not replaced)
    for out, text in ((tmp_path / "home", "is your home folder"),
                      (tmp_path, "contains your home folder"), ("/", "is the root folder")):
        with pytest.raises(OverwriteError, match=text):
            check_out(out, "an earlier pack", never, overwrite=True)
    (tmp_path / "data" / "src").mkdir(parents=True)
    for prefix in ("shards:", "avec2016:"):
        with pytest.raises(OverwriteError, match="holds the source"):
            check_out(tmp_path / "data", "an earlier pack", never,
                      sources=[f"{prefix}{tmp_path / 'data' / 'src'}"], overwrite=True)
    check_out(tmp_path / "new", "an earlier pack", never, overwrite=False)  # a new path is fine


def test_overwrite_replaces_a_genuine_earlier_output_of_each_verb(user, tmp_path, capsys,
                                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = str(user / "D" / "model.keras")
    source_before = _tree(user / "D")
    for fmt, out in (("saved_model", "exported"), ("litert", "m.tflite")):
        argv = ["export", model, "--format", fmt, "--steps", "5", "--out", out]
        assert main(argv) == 0
        card = zoo.export.read_card(out)
        _refused(capsys, argv, "pass --overwrite")
        assert main(argv + ["--overwrite"]) == 0
        assert zoo.export.read_card(out)["format"] == card["format"] == fmt
    # An export of one format never replaces one of another.
    _refused(capsys, ["export", model, "--format", "litert", "--steps", "5", "--out", "exported",
                      "--overwrite"], "is a folder")
    assert main(["data", "pack", str(user / "A"), "--out", "pack"]) == 0
    assert main(["data", "pack", str(user / "A"), "--out", "pack", "--overwrite"]) == 0
    demo = ["demo", "--out", "demo", "--epochs", "1", "--length", "200", "--input-dim", "3",
            "--quiet"]
    assert main(demo) == 0
    _refused(capsys, demo, "pass --overwrite")
    assert main(demo + ["--overwrite"]) == 0
    assert sorted(os.listdir("demo")) == ["data", "demo.json", "metrics.json", "model.keras",
                                          "predictions.png"]
    assert sorted(os.listdir(tmp_path)) == ["demo", "exported", "m.tflite", "pack"]
    assert _tree(user / "D") == source_before
