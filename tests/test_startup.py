"""`zoo --help`, `zoo list`, `zoo info NAME` and `import zoo; zoo.list_models()` answer from
data: no TensorFlow, JAX or PyTorch is imported on these paths (issue 27, item 1)."""

import json
import subprocess
import sys
from pathlib import Path

import zoo
from zoo import catalog, registry

LIGHT_PATHS = """
import contextlib, io, sys
import zoo
zoo.list_models(); zoo.list_models(pretrained=True); zoo.list_pretrained()
assert zoo.info("emotion_downup")["settings"]["name"] == "emotion_downup"
from zoo.cli import main
for argv in (["--help"], ["list"], ["list", "--pretrained"], ["list", "--json"],
             ["info", "emotion_downup"], ["info", "char_lm.shakespeare"], ["pretrained"],
             ["train", "--help"], ["export", "--help"], ["evaluate", "--help"]):
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code
    assert code in (0, None), argv
print(sorted(m for m in ("tensorflow", "jax", "torch", "keras") if m in sys.modules))
"""


def test_listing_and_describing_import_no_backend():
    result = subprocess.run([sys.executable, "-c", LIGHT_PATHS], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert result.stderr == ""


def test_the_console_script_imports_no_backend():
    zoo_script = str(Path(sys.executable).parent / "zoo")
    for argv in (["--help"], ["list"], ["info", "emotion_downup"]):
        result = subprocess.run([sys.executable, "-X", "importtime", zoo_script, *argv],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
                    if line.startswith("import time:")}
        assert "zoo.cli.app" in imported
        assert not imported & {"tensorflow", "jax", "torch", "keras"}, argv


def test_the_model_index_is_what_the_models_say():
    # `python -m zoo.catalog --write-index` rewrites it after a change to a model.
    assert registry.INDEX.read_text(encoding="utf-8") == catalog.index_text(), (
        "zoo/models/index.json is stale: run `python -m zoo.catalog --write-index`")


def test_a_model_you_register_is_listed_and_described_from_its_factory():
    @registry.register_model(name="_startup_probe", task="frames")
    def probe(**overrides):
        """A probe model: one line of summary.

        More text."""
        return zoo.get("emotion_filter", **overrides)

    try:
        assert "_startup_probe" in zoo.list_models()
        assert registry.summary("_startup_probe") == "A probe model: one line of summary."
        info = zoo.info("_startup_probe")
        assert info["class"] == "EmotionFilter" and info["parameters"] > 0
        assert info["settings"]["name"] == "_startup_probe"
    finally:
        registry._MODELS.pop("_startup_probe")
        registry._TASKS.pop("_startup_probe")


def test_wrong_names_for_info_list_and_pretrained_are_one_line_each(capsys):
    import pytest

    from zoo.cli import main

    for argv, message in [
        (["info", "char_lm.nope"], "char_lm.nope: no such pretrained entry; char_lm has "
                                   "shakespeare"),
        (["info", ""], "received an empty name"),
        (["info", "missing.tflite"], "missing.tflite: no such file or folder"),
        (["pretrained", "x["], "no pretrained entry matches 'x['"),
        (["list", "nothing*"], "no registered model matches 'nothing*'"),
    ]:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    with pytest.raises(TypeError, match="`pattern` must be an fnmatch string"):
        zoo.list_models(123)
    with pytest.raises(TypeError, match="A model name must be a string"):
        zoo.info(["emotion_downup"])
