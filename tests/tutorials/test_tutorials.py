"""Every tutorial runs end to end in its fast mode, as a user runs it: its own process,
output redirected, which must hold no progress bar, escape or TensorFlow warning."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.output import check_clean
from zoo.data import load_uea as zoo_load

TUTORIALS = Path(__file__).resolve().parents[2] / "tutorials"


def run_fast(name, out, *extra):
    """`python tutorials/NAME.py --fast --out OUT ...`: its scores.json, once the process
    ended well and wrote clean output."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, str(TUTORIALS / f"{name}.py"), "--fast", "--out",
                             str(out), *extra], capture_output=True, text=True, env=env,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    check_clean(result.stdout + result.stderr, f"tutorials/{name}.py --fast")
    return json.loads((Path(out) / "scores.json").read_text())


def load(name):
    spec = importlib.util.spec_from_file_location(name, TUTORIALS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_04_finetune_hub_encoder_fast(tmp_path, minilm_module):
    scores = run_fast("04_finetune_hub_encoder", tmp_path, "--module", minilm_module)
    for key in ("stage1_frozen_encoder", "stage2_top_blocks", "baseline_random_init"):
        assert -1.0 <= scores[key] <= 1.0


def _ran(tmp_path, files):
    for name in files:
        assert (tmp_path / name).stat().st_size > 300, name


def test_01_quickstart_fast(tmp_path):
    scores = run_fast("01_quickstart", tmp_path)
    _ran(tmp_path, ["training.png", "confusion.png", "model.keras"])
    assert scores["reloaded_predicts_the_same"]
    # The pretrained weights score what their card says on the same held-out split.
    assert abs(scores["pretrained_accuracy"] - scores["pretrained_card_accuracy"]) < 1e-9
    assert len(list((tmp_path / "csv_data").glob("*.csv"))) == 81


def test_01_quickstart_reads_a_users_folder(tmp_path):
    tutorial = load("01_quickstart")
    folder = tutorial.write_example_folder(tmp_path / "mine")
    sequences, labels, splits = tutorial.read_folder(folder)
    reference = zoo_load("BasicMotions", "test")
    np.testing.assert_allclose(sequences[40], reference.sequences[0], rtol=1e-6)
    assert labels[40] == reference.classes[reference.labels[0]] and splits[40] == "test"


def test_02_continuous_emotion_fast(tmp_path):
    scores = run_fast("02_continuous_emotion", tmp_path)
    _ran(tmp_path, ["emotion_downup_dev.png", "emotion_blstm_dev.png"])
    assert scores["reloaded_matches_card"]
    assert (tmp_path / "weights" / "manifest.json").is_file()
    for dims in scores["dev_ccc"].values():
        assert set(dims) == {"arousal", "valence"}


def test_03_rnnpb_motion_fast(tmp_path):
    scores = run_fast("03_rnnpb_motion", tmp_path)
    _ran(tmp_path, ["pb_space.png", "generated.png", "distances.csv", "model.keras"])
    first, last = scores["recognition_error"]
    assert last < first
    # The shipped weights recognise BasicMotions well above chance (0.25) even with a
    # short recognition; the card's 0.9 takes 400 updates x 8 starts.
    assert scores["recognition_accuracy"] >= 0.6


def test_05_char_text_generation_fast(tmp_path):
    scores = run_fast("05_char_text_generation", tmp_path)
    _ran(tmp_path, ["training.png", "surprise.png"])
    samples = (tmp_path / "samples.txt").read_text()
    assert samples.count("MIRANDA.") == 3
    # The shipped model beats letter frequencies by a wide margin on held-out text.
    assert scores["pretrained_bits_per_character"] < scores["order0_bits_per_character"] - 1.5


def test_06_tensor_cells_and_chorales_fast(tmp_path):
    scores = run_fast("06_tensor_cells_and_chorales", tmp_path)
    _ran(tmp_path, ["piano_roll.png", "real.png", "chorale.mid", "chorale.musicxml"])
    assert scores["cp_full_gap"] < 1e-5
    # The shipped model is scored on the test chorales as its card says.
    assert abs(scores["shipped_nll"] - 9.397) < 0.01
    assert scores["shipped_nll"] < scores["independent_notes_nll"] - 2.0
    assert 2.5 < scores["keys_per_beat"] < 7.0
