import json
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import zoo
from zoo import registry
from zoo.cli import main
from zoo.data import save_avec
from zoo.data.synthetic import recola_like


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("avec")
    save_avec(recola_like(train=2, dev=2, length=300, input_dim=8, seed=0), path)
    return path


def test_list_and_info(capsys):
    assert main(["list", "emotion_d*"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "task", "pretrained", "summary"]
    assert [line.split()[:3] for line in lines[1:]] == [["emotion_dilated", "frames", "-"],
                                                      ["emotion_downup", "frames", "-"]]
    assert "(Khorram et al. 2017)" in lines[2]
    assert main(["list", "--pretrained", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in rows] == zoo.list_models(pretrained=True)
    assert {"gru_classifier", "rnnpb"} <= set(zoo.list_models(pretrained=True))
    assert "emotion_downup" not in zoo.list_models(pretrained=True)
    assert {"name": "gru_classifier", "task": "classes", "pretrained": ["japanese_vowels"],
            "summary": zoo.registry.summary("gru_classifier")} in rows
    assert main(["list", "emotion_*", "--pretrained"]) == 2
    assert "no registered model with pretrained weights matches 'emotion_*'" in (
        capsys.readouterr().err)
    assert main(["info", "emotion_dilated"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["receptive_field"] == 1024 and info["settings"]["depth"] == 10


def test_unknown_model_is_a_clear_error(capsys):
    assert main(["info", "emotion_dilatd"]) == 2
    assert "Did you mean: emotion_dilated" in capsys.readouterr().err


def test_train_writes_model_metrics_and_plot_then_evaluate(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "emotion_downup", "--data", str(data_dir), "--epochs", "2",
                 "--out", str(out), "--set", "filters=4"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "arousal" in printed and "CCC" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["dev"]["ccc"]) == {"arousal", "valence"}
    assert metrics["settings"]["filters"] == 4
    assert (out / "predictions.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob(".*"))  # no temporary files left behind
    model = keras.models.load_model(out / "model.keras")
    assert model.input_shape == (None, None, 8)

    assert main(["evaluate", str(out / "model.keras"), "--data", str(data_dir)]) == 0
    table = capsys.readouterr().out  # the table `zoo train` prints
    assert table.startswith("dev scores (2 recordings") and "arousal    CCC" in table
    assert main(["evaluate", str(out / "model.keras"), "--data", str(data_dir), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(evaluated["ccc"]["arousal"], metrics["dev"]["ccc"]["arousal"],
                               atol=1e-5)


def test_train_reports_malformed_files(data_dir, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(data_dir, broken)
    path = broken / "features" / "dev_2.csv"
    lines = path.read_text().splitlines()
    lines[5] = lines[5].replace(";", ";oops", 1)
    path.write_text("\n".join(lines) + "\n")
    assert main(["train", "emotion_downup", "--data", str(broken), "--epochs", "1",
                 "--out", str(tmp_path / "o")]) == 2
    assert "dev_2.csv, line 6: a non-numeric cell" in capsys.readouterr().err


def test_console_script_is_installed():
    result = subprocess.run([str(Path(sys.executable).parent / "zoo"), "list"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "emotion_downup" in result.stdout


def test_recognize_writes_pbs_distances_and_plot(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    import zoo

    train = zoo.data.load_uea("BasicMotions", "train")
    model = zoo.get("rnnpb", units=8, pb_dim=2)
    model.fit(train, epochs=1, verbose=0)
    path = tmp_path / "rnnpb.keras"
    model.save(path)
    out = tmp_path / "rec"
    assert main(["recognize", str(path), "--data", "BasicMotions", "--steps", "3",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "recognised 40 sequences in 3 updates" in printed
    assert "nearest-class-mean accuracy" in printed and "trained Standing" in printed
    import pandas as pd

    table = pd.read_csv(out / "pb.csv")
    assert list(table.columns) == ["sequence", "label", "pb_1", "pb_2", "error", "nearest_class"]
    assert len(table) == 40 and np.isfinite(table[["pb_1", "pb_2"]].to_numpy()).all()
    assert (out / "distances.csv").is_file() and (out / "pb_space.png").is_file()


def test_recognize_refuses_a_model_that_is_not_an_rnnpb(tmp_path, capsys):
    model = keras.Sequential([keras.Input((None, 6)), keras.layers.Dense(2)])
    path = tmp_path / "dense.keras"
    model.save(path)
    assert main(["recognize", str(path), "--data", "BasicMotions",
                 "--out", str(tmp_path / "r")]) == 2
    assert "not an RNNPB" in capsys.readouterr().err
    assert main(["recognize", str(tmp_path / "missing.keras"), "--data", "BasicMotions",
                 "--out", str(tmp_path / "r")]) == 2
    assert "no model file" in capsys.readouterr().err
    for option, value in (("--steps", "fast"), ("--starts", "0")):
        assert main(["recognize", str(path), "--data", "BasicMotions", option, value]) == 2
        err = capsys.readouterr().err
        assert f"argument {option}" in err and "'auto'" in err and err.count("\n") == 1, err


def test_train_export_pretrained_writes_a_loadable_entry(data_dir, tmp_path, capsys,
                                                          monkeypatch):
    import zoo
    from zoo import pretrained

    out = tmp_path / "mine"
    code = main(["train", "emotion_downup", "--data", f"avec2016:{data_dir}", "--epochs", "1",
                 "--out", str(out), "--set", "filters=4", "--export-pretrained", "my_avec"])
    assert code == 0
    assert "register_directory" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    card = manifest["entries"]["emotion_downup.my_avec"]
    assert card["recipe"].startswith("zoo train emotion_downup --data avec2016:")
    assert "--set filters=4" in card["recipe"] and set(card["metrics"]) == {
        "dev_ccc_arousal", "dev_ccc_valence"}
    monkeypatch.setattr(pretrained.manifest, "_EXTRA_DIRECTORIES", [])
    pretrained.register_directory(out)
    model = zoo.get("emotion_downup", weights="my_avec")
    np.testing.assert_allclose(pretrained.predict_examples(model, card),
                               card["examples"]["outputs"], atol=1e-4)
    # A new output head (one dimension) loads everything else.
    one = zoo.get("emotion_downup", weights="my_avec", outputs=1)
    assert one.output_shape[-1] == 1


def test_pretrained_and_info_show_the_cards(capsys):
    assert main(["pretrained", "*classifier*"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [
        "gru_classifier.japanese_vowels", "peephole_lstm_classifier.japanese_vowels"]
    assert "accuracy 0.9" in lines[0]
    assert main(["info", "gru_classifier"]) == 0
    cards = json.loads(capsys.readouterr().out)["pretrained"]
    assert cards[0]["tag"] == "japanese_vowels" and "examples" not in cards[0]


def test_train_names_the_recipes_for_unknown_bundled_data(tmp_path, capsys):
    assert main(["train", "char_lm", "--data", "Shakespear", "--out", str(tmp_path / "o")]) == 2
    assert "zoo train char_lm --data shakespeare" in capsys.readouterr().err


def test_damaged_model_files_are_named_in_one_line(tmp_path, capsys):
    path = tmp_path / "damaged.keras"
    path.write_bytes(b"not a zip archive")
    for verb in (["evaluate", str(path), "--data", "recola_like"],
                 ["recognize", str(path), "--data", "BasicMotions", "--out", str(tmp_path / "r")]):
        assert main(verb) == 2
        err = capsys.readouterr().err
        assert "damaged.keras is not a .keras file" in err and err.count("\n") == 1


def test_every_option_of_every_verb_has_help_text_with_its_default(capsys):
    import argparse

    from zoo.cli import build_parser

    parser = build_parser()
    verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(verbs.choices) >= {"list", "info", "pretrained", "train", "evaluate",
                                  "recognize", "demo"}
    for name, verb in verbs.choices.items():
        assert verb.description, name
        for action in verb._actions:
            assert action.help, f"zoo {name} {action.dest} has no help text"
        with pytest.raises(SystemExit):
            main([name, "--help"])
        text = capsys.readouterr().out
        for action in verb._actions:
            if action.default not in (None, False, argparse.SUPPRESS):
                assert f"default: {action.default}" in " ".join(text.replace("'", "").split()), (
                    name, action.dest)
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "pretrained" in capsys.readouterr().out


NATIVE_LOG = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    b"I0000 00:00:1796092570.439742   25200 port.cc:153] oneDNN custom operations are on.\n"
    b"I0000 00:00:1796092570.440084   25200 cpu_feature_guard.cc:227] This TensorFlow binary is "
    b"optimized.\n"
    b"To enable the following instructions: AVX2 FMA, in other operations, rebuild.\n"
    b"W0000 00:00:1796092571.1   25200 some.cc:1] a warning\n"
    b"E0000 00:00:1796092571.110160   15301 cuda_platform.cc:52] failed call to cuInit\n"
    b"a line of the program's own\n"
)


@pytest.mark.parametrize("level, kept", [
    (3, [b"a line of the program's own\n"]),
    (2, [b"E0000", b"a line of the program's own\n"]),
    (0, [b"WARNING: All", b"I0000", b"I0000", b"To enable", b"W0000", b"E0000", b"a line"]),
])
def test_native_log_lines_are_filtered_by_level(level, kept):
    from zoo.cli.quiet import filter_lines

    lines = filter_lines(NATIVE_LOG, level).splitlines(keepends=True)
    assert len(lines) == len(kept)
    for line, start in zip(lines, kept):
        assert line.startswith(start)


@pytest.mark.parametrize("command", [["{zoo}"], ["{python}", "-m", "zoo.cli"]])
def test_cli_prints_no_tensorflow_log_lines(command):
    import os

    # A verb that imports TensorFlow (listing and describing models do not).
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    where = {"zoo": str(Path(sys.executable).parent / "zoo"), "python": sys.executable}
    argv = [c.format(**where) for c in command] + ["evaluate", "nothere.keras", "--data",
                                                    "recola_like"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "zoo: There is no model file at nothere.keras.\n"


def test_train_takes_a_bundled_uea_set_for_a_classifier(tmp_path, capsys):
    from zoo.data.uea import load_uea

    out = tmp_path / "pickup"
    assert main(["train", "gru_classifier", "--data", "PickupGestureWiimoteZ", "--epochs", "1",
                 "--set", "units=4", "--out", str(out), "--verbose", "0"]) == 0
    said = capsys.readouterr().out
    assert "trained gru_classifier on PickupGestureWiimoteZ (train 50 / test 50 sequences, " \
           "1 epoch): test accuracy" in said
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and len(metrics["classes"]) == 10
    # model.keras takes raw, end-padded frames and scores what metrics.json says.
    test = load_uea("PickupGestureWiimoteZ", "test")
    x, _ = test.padded()
    model = keras.saving.load_model(out / "model.keras")
    assert model.units == 4
    accuracy = np.mean(np.argmax(model.predict(x, verbose=0), -1) == test.labels)
    assert accuracy == pytest.approx(metrics["test_accuracy"], abs=1e-9)


@pytest.mark.parametrize("name", registry.models_for("classes"))
def test_every_classifier_is_trained_on_a_uea_set(name, tmp_path, monkeypatch):
    import zoo.recipes.uea

    calls = []

    def record(training, out, verbose):
        calls.append((training.model, training.data, training.epochs, training.learning_rate,
                      training.settings))
        return None, {"split": "-", "epochs": training.epochs, "test_accuracy": 0.0}

    monkeypatch.setattr(zoo.recipes.uea, "train_on_uea", record)
    # With settings of the caller's own, the shipped recipe's pair is a run on the set too.
    assert main(["train", name, "--data", "BasicMotions", "--epochs", "2", "--lr", "0.01",
                 "--set", "units=3", "--out", str(tmp_path / "o")]) == 0
    assert calls == [(name, "BasicMotions", 2, 0.01, {"units": 3})]


def test_uea_sets_are_for_classifiers_only(tmp_path, capsys):
    assert main(["train", "emotion_downup", "--data", "BasicMotions",
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "emotion_downup takes frame-labelled" in err
    assert "gru_classifier" in err
    assert not (tmp_path / "o").exists()
