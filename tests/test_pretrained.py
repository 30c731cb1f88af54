"""Pretrained entries: checksum before load, exact predictions, head rebuild, local entries,
the README table, and the weights travelling inside a non-editable install."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo import pretrained

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [k for k in zoo.list_pretrained() if not k.startswith("minilm_")]
ENTRY = "gru_classifier.japanese_vowels"


def _weights(model):
    return [np.array(w) for w in model.weights]


def test_manifest_lists_the_issue_entries():
    assert set(zoo.list_pretrained()) >= {
        "rnnpb.basic_motions", "peephole_lstm_classifier.japanese_vowels",
        "gru_classifier.japanese_vowels", "char_lm.shakespeare", "minilm_valence.vader_movies",
        "music_rnn.bach_chorales", "bilinear_char_lm.shakespeare",
    }
    total = sum(f.stat().st_size for f in (ROOT / "pretrained").iterdir())
    assert total < 20e6, f"pretrained/ holds {total / 1e6:.1f} MB"
    for key in zoo.list_pretrained():
        card = pretrained.card(key, examples=True)
        for field in ("sha256", "dataset", "split", "metrics", "tolerance", "licence", "recipe",
                      "zoo_version", "examples"):
            assert card[field] or field == "tolerance", (key, field)
        assert card["recipe"].startswith(f"zoo train {card['name']} ")
        assert pretrained.sha256(Path(card["directory"]) / card["file"]) == card["sha256"]


@pytest.mark.portable  # every entry but MiniLM loads on every backend
@pytest.mark.parametrize("key", SHIPPED)
def test_entry_loads_and_reproduces_its_stored_predictions(key):
    name, tag = key.split(".", 1)
    model = zoo.get(name, weights=tag)
    card = pretrained.card(key, examples=True)
    expected = np.array(card["examples"]["outputs"])
    np.testing.assert_allclose(pretrained.predict_examples(model, card), expected, atol=1e-4)
    # Not a constant function: the stored outputs vary.
    assert expected.std() > 1e-3


@pytest.mark.portable
def test_rnnpb_entry_is_ready_for_recognition():
    model = zoo.get("rnnpb", weights="basic_motions")
    assert model.num_sequences == 40 and len(model.sequence_labels) == 40
    assert np.ptp(model.pb_table.numpy(), axis=0).min() > 0.1
    test = zoo.data.load_uea("BasicMotions", "test")
    pbs, trace = model.recognize(test.sequences[:2], steps=20)
    assert trace[-1].mean() < trace[0].mean()


@pytest.fixture
def copied(tmp_path, monkeypatch):
    """A private copy of the shipped manifest with one entry, in place of the shipped one."""
    source = pretrained.card(ENTRY)
    manifest = json.loads((ROOT / "pretrained" / "manifest.json").read_text())
    manifest["entries"] = {ENTRY: manifest["entries"][ENTRY]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    shutil.copy(Path(source["directory"]) / source["file"], tmp_path / source["file"])
    monkeypatch.setattr(pretrained.manifest, "shipped_directory", lambda: tmp_path)
    return tmp_path / source["file"]


def test_one_flipped_byte_fails_the_checksum_and_leaves_the_model_unchanged(copied):
    model = zoo.get("gru_classifier", weights="japanese_vowels")
    data = bytearray(copied.read_bytes())
    data[len(data) // 2] ^= 0x01
    copied.write_bytes(bytes(data))
    fresh = zoo.get("gru_classifier", **pretrained.card(ENTRY)["settings"])
    for target in (model, fresh):
        before = _weights(target)
        with pytest.raises(pretrained.ChecksumError, match=f"'{ENTRY}'.*sha256"):
            pretrained.load_weights(target, ENTRY)
        for a, b in zip(before, _weights(target)):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(pretrained.ChecksumError, match=ENTRY):
        zoo.get("gru_classifier", weights="japanese_vowels")


def test_truncated_and_missing_files_are_named(copied):
    copied.write_bytes(copied.read_bytes()[:1000])
    with pytest.raises(pretrained.ChecksumError, match="1000 bytes.*truncated"):
        zoo.get("gru_classifier", weights="japanese_vowels")
    copied.unlink()
    with pytest.raises(pretrained.ChecksumError, match="missing"):
        zoo.get("gru_classifier", weights="japanese_vowels")


def test_a_card_cannot_point_outside_its_folder(copied):
    manifest_path = copied.parent / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["entries"][ENTRY]["file"] = "../elsewhere.weights.h5"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="plain `.weights.h5` name"):
        zoo.get("gru_classifier", weights="japanese_vowels")


def test_mismatched_architecture_leaves_the_model_unchanged():
    other = zoo.get("gru_classifier", units=8)
    before = _weights(other)
    with pytest.raises(ValueError, match="does not fit this model"):
        pretrained.load_weights(other, ENTRY)
    for a, b in zip(before, _weights(other)):
        np.testing.assert_array_equal(a, b)


def test_new_head_size_rebuilds_the_head_and_keeps_the_rest():
    base = zoo.get("gru_classifier", weights="japanese_vowels")
    five = zoo.get("gru_classifier", weights="japanese_vowels", classes=5, dropout=0.1)
    assert five.output_shape == (None, 5)
    for a, b in zip(base.get_layer("gru_0").get_weights(), five.get_layer("gru_0").get_weights()):
        np.testing.assert_array_equal(a, b)
    assert five.get_layer("head").get_weights()[0].shape == (128, 5)


def test_settings_the_weights_depend_on_must_match():
    with pytest.raises(ValueError, match="trained with units=128; received units=64"):
        zoo.get("gru_classifier", weights="japanese_vowels", units=64)
    with pytest.raises(ValueError, match="Tags of 'gru_classifier': japanese_vowels"):
        zoo.get("gru_classifier", weights="imagenet")
    with pytest.raises(ValueError, match="has no pretrained weights"):
        zoo.get("elman_classifier", weights="imagenet")
    with pytest.raises(TypeError, match="tag string"):
        zoo.get("gru_classifier", weights=True)


def test_export_register_and_load_a_local_entry(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    model = zoo.get("elman_regressor", input_dim=3, outputs=2, units=5)
    x = rng.normal(size=(2, 7, 3)).astype("float32")
    fields = dict(settings={"input_dim": 3, "outputs": 2, "units": 5}, dataset="mine",
                  split="all", metrics={"dev_ccc": 0.5}, tolerance={}, licence="mine",
                  recipe="zoo train elman_regressor --data mine", head=["head"],
                  head_settings=["outputs"], examples={"inputs": pretrained.input_spec(x)})
    with pytest.raises(ValueError, match="tag is lower-case"):
        pretrained.export(model, "elman_regressor", "Mine!", tmp_path, **fields)
    card = pretrained.export(model, "elman_regressor", "mine", tmp_path, **fields)
    assert oct((tmp_path / "manifest.json").stat().st_mode & 0o777) != "0o600"
    with pytest.raises(ValueError, match="Unknown pretrained entry"):
        zoo.get("elman_regressor", weights="mine")
    monkeypatch.setenv("ZOO_PRETRAINED", str(tmp_path))
    loaded = zoo.get("elman_regressor", weights="mine")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), np.array(card["examples"]["outputs"]),
                               atol=1e-5)
    assert "elman_regressor.mine" in zoo.list_pretrained("elman_*")
    assert zoo.info("elman_regressor")["pretrained"][0]["sha256"] == card["sha256"]
    # Exporting again is refused unless told; told, it replaces the entry, never duplicates it.
    with pytest.raises(FileExistsError, match="already holds the pretrained entry.*overwrite"):
        pretrained.export(model, "elman_regressor", "mine", tmp_path, **fields)
    pretrained.export(model, "elman_regressor", "mine", tmp_path, overwrite=True, **fields)
    assert list(json.loads((tmp_path / "manifest.json").read_text())["entries"]) == [
        "elman_regressor.mine"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".manifest.lock", "elman_regressor.mine.1.weights.h5", "manifest.json"]


def _tiny_entry(seed):
    import keras

    keras.utils.set_random_seed(seed)
    model = zoo.get("elman_regressor", input_dim=3, outputs=2, units=4)
    x = np.random.default_rng(1).normal(size=(1, 5, 3)).astype("float32")
    fields = dict(settings={"input_dim": 3, "outputs": 2, "units": 4}, dataset="d", split="s",
                  metrics={"m": 0.5}, tolerance={}, licence="l", recipe="r",
                  examples={"inputs": pretrained.input_spec(x)})
    return model, fields


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}


@pytest.mark.parametrize("failure", ["card", "settings", "disk"])
def test_a_failed_re_export_leaves_the_old_entry_loading_as_before(tmp_path, monkeypatch,
                                                                   failure):
    model, fields = _tiny_entry(seed=0)
    card = pretrained.export(model, "elman_regressor", "mine", tmp_path, **fields)
    before = _snapshot(tmp_path)
    retrained, new_fields = _tiny_entry(seed=1)
    if failure == "card":  # found invalid only when the new card is checked
        new_fields["metrics"] = {"m": "high"}
    elif failure == "settings":  # weights that the card's settings do not build
        new_fields["settings"] = {**new_fields["settings"], "units": 5}
    else:  # the manifest cannot be written
        def refuse(path, text):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(sys.modules["zoo.pretrained.writing"], "write_text", refuse)
    with pytest.raises((ValueError, OSError)):
        pretrained.export(retrained, "elman_regressor", "mine", tmp_path, overwrite=True,
                          **new_fields)
    assert _snapshot(tmp_path) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export-")]
    monkeypatch.setenv("ZOO_PRETRAINED", str(tmp_path))
    loaded = zoo.get("elman_regressor", weights="mine")
    np.testing.assert_allclose(pretrained.predict_examples(loaded, card),
                               card["examples"]["outputs"], atol=1e-5)


def test_a_re_export_replaces_the_entry_whole(tmp_path, monkeypatch):
    model, fields = _tiny_entry(seed=0)
    pretrained.export(model, "elman_regressor", "mine", tmp_path, **fields)
    (tmp_path / "notes.txt").write_text("mine")
    retrained, _ = _tiny_entry(seed=1)
    card = pretrained.export(retrained, "elman_regressor", "mine", tmp_path, overwrite=True,
                             **fields)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".manifest.lock", card["file"], "manifest.json", "notes.txt"]
    monkeypatch.setenv("ZOO_PRETRAINED", str(tmp_path))
    loaded = zoo.get("elman_regressor", weights="mine")
    x = pretrained.example_inputs(card)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), retrained.predict(x, verbose=0),
                               atol=1e-6)


def test_readme_table_is_generated_from_the_manifest():
    readme = (ROOT / "README.md").read_text()
    assert pretrained.readme_table() in readme, (
        "README's pretrained table is stale: run `python -m zoo.pretrained --readme README.md`")
    for key in zoo.list_pretrained():
        name, tag = key.split(".", 1)
        assert f'`{name}`, `weights="{tag}"`' in readme


NO_NETWORK = """
import socket

def _refuse(*args, **kwargs):
    raise OSError("network access is disabled in this test")

socket.socket.connect = _refuse
socket.create_connection = _refuse
"""

CHECK = """
import sys, numpy as np, zoo
from zoo import pretrained
assert zoo.__file__.startswith(sys.argv[1]), zoo.__file__
keys = zoo.list_pretrained()
assert keys, "no entries installed"
for key in keys:
    name, tag = key.split(".", 1)
    card = pretrained.card(key, examples=True)
    model = zoo.get(name, weights=tag)
    got = pretrained.predict_examples(model, card)
    error = float(np.abs(got - np.array(card["examples"]["outputs"])).max())
    assert error < 1e-4, (key, error)
    print(key, "ok", f"{error:.1e}")
# The bundled data and the model index install too.
assert len(zoo.data.load_uea("BasicMotions", "test").labels) == 40
assert zoo.info("emotion_downup")["parameters"] > 0
"""


@pytest.mark.slow
def test_non_editable_install_loads_every_entry_without_network(tmp_path):
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, ROOT],
                   check=True, cwd=tmp_path)
    wheel = next(wheels.glob("zoo-*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", site, wheel],
                   check=True, cwd=tmp_path)
    (site / "sitecustomize.py").write_text(textwrap.dedent(NO_NETWORK))
    env = {**os.environ, "PYTHONPATH": str(site), "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("ZOO_PRETRAINED", None)
    result = subprocess.run([sys.executable, "-c", CHECK, str(site)], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count(" ok ") == len(zoo.list_pretrained()), result.stdout


# -- manifests: validated whole, written under a lock -----------------------------------------
EXPORTER = textwrap.dedent("""
    import sys
    import numpy as np
    import zoo
    from zoo import pretrained
    out, worker = sys.argv[1], int(sys.argv[2])
    model = zoo.get("elman_regressor", input_dim=2, outputs=1, units=2)
    x = np.zeros((1, 3, 2), "float32")
    for i in range(10):
        pretrained.export(model, "elman_regressor", f"w{worker}_{i}", out,
                          settings={"input_dim": 2, "outputs": 1, "units": 2}, dataset="d",
                          split="s", metrics={"m": 0.0}, tolerance={}, licence="l", recipe="r",
                          examples={"inputs": pretrained.input_spec(x)})
""")


def test_concurrent_exports_into_one_folder_keep_every_card(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    workers = [subprocess.Popen([sys.executable, "-c", EXPORTER, str(tmp_path), str(w)], env=env)
               for w in range(4)]
    assert [w.wait(timeout=600) for w in workers] == [0, 0, 0, 0]
    entries = json.loads((tmp_path / "manifest.json").read_text())["entries"]
    files = sorted(p.name for p in tmp_path.glob("*.weights.h5"))
    assert len(entries) == 40 and len(files) == 40
    assert sorted(e["file"] for e in entries.values()) == files
    assert not list(tmp_path.glob(".export-*"))


def _manifest_with(tmp_path, change):
    card = json.loads((ROOT / "pretrained" / "manifest.json").read_text())["entries"][ENTRY]
    manifest = {"format": 1, "entries": {"gru_classifier.mine": {**card, "tag": "mine"}}}
    change(manifest)
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps(manifest).replace('"__HUGE__"', "1e400")
                                          .replace('"__DEEP__"', "[" * 100_000 + "]" * 100_000))
    return folder


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(entries=[1]), "`entries` must be an object"),
    (lambda m: m["entries"].update({"gru_classifier.mine": 1}), "must be an object \\(a card\\)"),
    (lambda m: m["entries"]["gru_classifier.mine"].pop("sha256"), "missing field 'sha256'"),
    (lambda m: m["entries"]["gru_classifier.mine"].update(bytes="694344"),
     "field 'bytes' must be an integer"),
    (lambda m: m["entries"]["gru_classifier.mine"].update(settings=[]),
     "field 'settings' must be an object"),
    (lambda m: m["entries"]["gru_classifier.mine"].update(sha256="xyz"), "64 lower-case hex"),
    (lambda m: m["entries"]["gru_classifier.mine"].update(tag="other"), "key must be name.tag"),
    (lambda m: m["entries"]["gru_classifier.mine"]["metrics"].update(accuracy="high"),
     "metric 'accuracy' must be a finite number"),
    (lambda m: m["entries"]["gru_classifier.mine"]["metrics"].update(accuracy="__HUGE__"),
     "metric 'accuracy' must be a finite number. Received inf"),
    (lambda m: m["entries"]["gru_classifier.mine"]["metrics"].update(accuracy=float("nan")),
     "holds NaN, which is not a JSON number"),
    (lambda m: m["entries"]["gru_classifier.mine"].update(notes="__DEEP__"),
     "nests deeper than 200 levels"),
    (lambda m: m.update(format=2), "unknown manifest format 2"),
])
def test_a_bad_manifest_is_refused_whole_and_harms_nothing_else(tmp_path, monkeypatch, change,
                                                                 message):
    folder = _manifest_with(tmp_path, change)
    with pytest.raises(ValueError, match=message) as caught:
        pretrained.register_directory(folder)
    assert str(folder / "manifest.json") in str(caught.value)
    assert folder not in pretrained.manifest._EXTRA_DIRECTORIES
    assert ENTRY in zoo.list_pretrained()
    assert zoo.info("gru_classifier")["pretrained"]
    # Named in the environment, it is skipped with a warning; the shipped entries still load.
    monkeypatch.setenv("ZOO_PRETRAINED", str(folder))
    with pytest.warns(UserWarning, match="skipped"):
        assert ENTRY in zoo.list_pretrained()
    with pytest.warns(UserWarning, match="skipped"):
        zoo.get("gru_classifier", weights="japanese_vowels")


@pytest.mark.parametrize("module, args, expected", [
    ("zoo.pretrained", [], "| weights |"),
    ("zoo.models.text", ["--help"], "usage: python -m zoo.models.text"),
])
def test_module_entry_points_run_without_warnings(module, args, expected):
    result = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", module, *args],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    assert "RuntimeWarning" not in result.stderr and "already registered" not in result.stderr


@pytest.mark.parametrize("name", ["gru_classifier", "peephole_lstm_classifier"])
def test_pretrained_classifiers_take_raw_inputs_and_give_the_cards_accuracy(name):
    model = zoo.get(name, weights="japanese_vowels")
    test = zoo.data.load_uea("JapaneseVowels", "test")
    x, _ = test.padded()  # raw LPC cepstra, 0-padded
    accuracy = float(np.mean(np.argmax(model.predict(x, verbose=0), -1) == test.labels))
    card = pretrained.card(f"{name}.japanese_vowels")
    assert accuracy == pytest.approx(card["metrics"]["accuracy"], abs=1e-9)
    # The statistics are the card's and live in the model (config round trip included).
    config = model.get_config()
    np.testing.assert_allclose(config["input_mean"], card["preprocessing"]["mean"])
    again = type(model).from_config(config)
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again.predict(x[:5], verbose=0), model.predict(x[:5], verbose=0),
                               atol=1e-6)
    # A new head keeps the standardisation.
    assert zoo.get(name, weights="japanese_vowels", classes=5).get_config()["input_mean"]


def test_input_statistics_are_checked():
    with pytest.raises(ValueError, match="both `input_mean` and `input_std`"):
        zoo.get("gru_classifier", input_dim=2, input_mean=[0.0, 0.0])
    with pytest.raises(ValueError, match="one value per channel"):
        zoo.get("gru_classifier", input_dim=2, input_mean=[0.0], input_std=[1.0])
    with pytest.raises(ValueError, match="finite and > 0"):
        zoo.get("gru_classifier", input_dim=2, input_mean=[0.0, 0.0], input_std=[1.0, 0.0])


def test_cards_leave_out_the_example_tensors_unless_asked():
    small = pretrained.card(ENTRY)
    assert "examples" not in small and small["metrics"]["accuracy"] > 0.9
    full = pretrained.card(ENTRY, examples=True)
    assert full["examples"]["inputs"] and len(json.dumps(full)) > 5 * len(json.dumps(small))
    assert all("examples" not in c for c in pretrained.cards("gru_classifier"))


def test_the_readme_tool_reports_a_missing_file_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "zoo.pretrained", "--readme",
                             str(tmp_path / "missing.md")], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 2
    assert "missing.md" in result.stderr and "Traceback" not in result.stderr


def test_the_minilm_export_tool_refuses_an_existing_folder_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "zoo.models.text", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "exists; name a new folder" in result.stderr and "Traceback" not in result.stderr
