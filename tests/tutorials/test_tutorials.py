"""Every tutorial runs end to end in its fast mode."""

import importlib.util
import json
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parents[2] / "tutorials"


def load(name):
    spec = importlib.util.spec_from_file_location(name, TUTORIALS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_04_finetune_hub_encoder_fast(tmp_path, minilm_module):
    scores = load("04_finetune_hub_encoder").run(tmp_path, fast=True, module=minilm_module)
    written = json.loads((tmp_path / "scores.json").read_text())
    assert written == scores
    for key in ("stage1_frozen_encoder", "stage2_top_blocks", "baseline_random_init"):
        assert -1.0 <= scores[key] <= 1.0
