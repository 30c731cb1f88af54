"""Exports checked in the real runtimes: TensorFlow's SavedModel loader, the stand-alone
LiteRT interpreter (ai-edge-litert) and onnxruntime. Every family in SavedModel and LiteRT
(every registered model in ONNX: `test_onnx.py`); the step signatures run frame by frame
against the whole sequence; the card read back; bad input refused before anything is
written."""

import keras
import numpy as np
import onnxruntime as ort
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

import zoo
from zoo.cli import main
from zoo.export import ExportError, NotCausalError, export, read_card, stream

T = 12
FAMILIES = {
    "emotion_downup": dict(input_dim=5),
    "emotion_dilated": dict(input_dim=5, causal=True),
    "emotion_filter": dict(input_dim=5),
    "emotion_blstm": dict(input_dim=5, units=4),
    "elman_regressor": dict(input_dim=5, outputs=2, units=8),
    "jordan_classifier": dict(input_dim=5, classes=3, units=8),
    "gru_classifier": dict(input_dim=5, classes=3, units=8),
    "peephole_lstm_regressor": dict(input_dim=5, outputs=2, units=8),
    "lstm_classifier": dict(input_dim=5, classes=3, units=8),
    "bilinear_regressor": dict(input_dim=5, outputs=2, units=8),
    "gated_bilinear_classifier": dict(input_dim=5, classes=3, units=8),
    "char_lm": dict(vocabulary="abcdef", units=8, depth=2),
    "linear_ar": dict(input_dim=5, outputs=5),
    "feedforward_ar": dict(input_dim=5, outputs=5, hidden=8),
}
CAUSAL = {name for name in FAMILIES if name not in ("emotion_downup", "emotion_filter",
                                                     "emotion_blstm")}
SUFFIX = {"saved_model": "", "litert": ".tflite", "onnx": ".onnx"}
TOLERANCE = {"saved_model": 1e-5, "litert": 1e-4, "onnx": 1e-5}


def inputs_for(name, rng, batch=1, steps=T):
    if name == "char_lm":
        return rng.integers(0, 7, size=(batch, steps)).astype("int32")
    return rng.normal(size=(batch, steps, 5)).astype("float32")


class Runtime:
    """One export opened in its own runtime; `run(signature, **inputs)` -> outputs dict."""

    def __init__(self, path, format):
        self.format, self.path = format, path
        if format == "saved_model":
            self.loaded = tf.saved_model.load(str(path))
        elif format == "litert":
            self.interpreter = Interpreter(model_path=str(path))
        self.card = read_card(path)

    def run(self, signature, **inputs):
        if self.format == "saved_model":
            result = self.loaded.signatures[signature](**{k: tf.constant(v)
                                                          for k, v in inputs.items()})
            return {k: v.numpy() for k, v in result.items()}
        if self.format == "litert":
            return self.interpreter.get_signature_runner(signature)(**inputs)
        file = self.path.parent / self.card["files"][signature]
        session = ort.InferenceSession(str(file))
        names = [o.name for o in session.get_outputs()]
        return dict(zip(names, session.run(names, inputs)))


def exported(model, tmp_path, format, **kwargs):
    path = tmp_path / f"model{SUFFIX[format]}"
    kwargs.setdefault("steps", None if format == "saved_model" else T)
    card = export(model, path, format=format, **kwargs)
    return Runtime(path, format), card


@pytest.mark.parametrize("format", ["saved_model", "litert"])
@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_family_exports_and_streams(name, format, tmp_path):
    rng = np.random.default_rng(0)
    model = zoo.get(name, **FAMILIES[name])
    x = inputs_for(name, rng)
    expected = np.asarray(model(x))
    runtime, card = exported(model, tmp_path, format, batch=1)
    np.testing.assert_allclose(runtime.run("serve", sequences=x)["output"], expected,
                               atol=TOLERANCE[format], rtol=0)
    assert card["signatures"].keys() == ({"serve", "step"} if name in CAUSAL else {"serve"})
    assert runtime.card == card and card["format"] == format
    if name not in CAUSAL:
        return
    # The step signature, frame by frame from zero states, reproduces the whole sequence.
    states = {k: np.zeros(v["shape"], "float32") for k, v in
              card["signatures"]["step"]["inputs"].items() if k.startswith("state_")}
    outputs = []
    for t in range(T):
        result = runtime.run("step", frame=x[:, t], **states)
        states = {k.replace("next_", ""): v for k, v in result.items() if k != "output"}
        outputs.append(result["output"])
    streamed = np.stack(outputs, 1) if expected.ndim == 3 else outputs[-1]
    np.testing.assert_allclose(streamed, expected, atol=TOLERANCE[format], rtol=0)


@pytest.mark.parametrize("name", sorted(CAUSAL))
def test_keras_step_function_reproduces_the_sequence(name):
    rng = np.random.default_rng(1)
    model = zoo.get(name, **FAMILIES[name])
    x = inputs_for(name, rng, batch=3, steps=40)
    expected = np.asarray(model(x))
    streamed = np.asarray(stream(model, x)[0])
    streamed = streamed if expected.ndim == 3 else streamed[:, -1]
    np.testing.assert_allclose(streamed, expected, atol=1e-5, rtol=0)


def test_dilated_stream_carries_its_input_history_over_long_sequences():
    model = zoo.get("emotion_dilated", input_dim=4, causal=True)
    rng = np.random.default_rng(2)
    for w in model.weights:
        w.assign(rng.normal(scale=0.3, size=w.shape).astype("float32"))
    x = rng.normal(size=(1, 700, 4)).astype("float32")     # beyond the 512-frame dilation
    np.testing.assert_allclose(np.asarray(stream(model, x)[0]), np.asarray(model(x)),
                               atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("format", list(SUFFIX))
def test_rnnpb_generation_network(format, tmp_path):
    model = zoo.get("rnnpb", weights="basic_motions")
    pb = model.pb_table.numpy()[:1]
    frames = zoo.data.load_uea("BasicMotions", "test").sequences[0][None, :20].astype("float32")
    runtime, card = exported(model, tmp_path, format, steps=20, batch=1)
    assert set(card["signatures"]) == {"serve", "generate", "step"}
    np.testing.assert_allclose(runtime.run("serve", frames=frames, pb=pb)["output"],
                               np.asarray(model((frames, pb))), atol=TOLERANCE[format] * 10)
    generated = np.asarray(model.generate(pb, frames[:, :1], 20))          # (1, 20, 6)
    np.testing.assert_allclose(runtime.run("generate", frame=frames[:, 0], pb=pb)["output"],
                               generated, atol=TOLERANCE[format] * 10)
    state = np.zeros((1, model.units), "float32")
    result = runtime.run("step", frame=frames[:, 0], pb=pb, state_0=state)
    np.testing.assert_allclose(result["output"], generated[:, 0], atol=TOLERANCE[format] * 10)


@pytest.mark.parametrize("quantize,tolerance", [("float16", 1e-3), ("int8", 2e-2)])
def test_quantised_litert_stays_within_its_stated_tolerance(quantize, tolerance, tmp_path):
    # Big enough that the weights dominate the file (LiteRT leaves tensors under 1024
    # numbers unquantised). Measured: float16 1.0e-4, int8 3.3e-3 on outputs of size 0.5.
    model = zoo.get("gru_regressor", input_dim=40, outputs=2, units=128)
    x = np.random.default_rng(3).normal(size=(1, T, 40)).astype("float32")
    runtime, card = exported(model, tmp_path, "litert", quantize=quantize)
    plain = tmp_path / "plain.tflite"
    export(model, plain, format="litert", steps=T)
    ratio = (tmp_path / "model.tflite").stat().st_size / plain.stat().st_size
    assert ratio < (0.6 if quantize == "float16" else 0.45), ratio
    got = runtime.run("serve", sequences=x)["output"]
    assert card["quantize"] == quantize
    np.testing.assert_allclose(got, np.asarray(model(x)), atol=tolerance, rtol=0)


def test_pretrained_classifier_in_litert_scores_its_card(tmp_path, capsys):
    out = tmp_path / "vowels.tflite"
    assert main(["export", "gru_classifier", "--weights", "japanese_vowels", "--format",
                 "litert", "--out", str(out)]) == 0
    card = read_card(out)
    assert card["weights"]["tag"] == "japanese_vowels" and card["preprocessing"]["mean"]
    test = zoo.data.load_uea("JapaneseVowels", "test")
    x, _ = test.padded(card["signatures"]["serve"]["inputs"]["sequences"]["shape"][1])
    runner = Interpreter(model_path=str(out)).get_signature_runner("serve")
    predicted = [int(np.argmax(runner(sequences=s[None].astype("float32"))["output"]))
                 for s in x]
    accuracy = float(np.mean(np.asarray(predicted) == test.labels))
    assert abs(accuracy - card["weights"]["metrics"]["accuracy"]) < 1e-9, accuracy
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    assert '"tag": "japanese_vowels"' in capsys.readouterr().out
    _the_card_reads_without_tensorflow(out, card)


def _the_card_reads_without_tensorflow(out, card):
    """zoo's own FlatBuffer walk (`zoo.export.cards`) finds the card LiteRT's generated
    schema finds; `zoo info FILE.tflite` runs without importing TensorFlow; a truncated or
    bit-flipped file reads as no card (or a FileError for a damaged card), never a crash."""
    import subprocess
    import sys

    from tensorflow.lite.python import schema_py_generated as schema

    from zoo.export import cards
    from zoo.files import FileError

    data = out.read_bytes()
    model = schema.Model.GetRootAsModel(bytearray(data), 0)
    entries = {model.Metadata(i).Name(): model.Metadata(i).Buffer()
               for i in range(model.MetadataLength())}
    want = bytes(model.Buffers(entries[b"zoo_card"]).DataAsNumpy())
    assert cards.litert_metadata(data, "zoo_card") == want
    assert cards.read_litert_card(data) == card
    assert cards.litert_metadata(data, "no_such_entry") is None
    code = ("import sys; from zoo.cli import main; status = main(['info', sys.argv[1]]); "
            "assert status == 0 and 'tensorflow' not in sys.modules, sorted(sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and '"tag": "japanese_vowels"' in result.stdout, result.stderr
    rng = np.random.default_rng(0)
    for cut in [0, 3, 7, 64, len(data) // 2, len(data) - 1]:
        assert cards.litert_metadata(data[:cut], "zoo_card") in (None, want)
    for _ in range(300):
        damaged = bytearray(data)
        for at in rng.integers(0, len(data), size=4):
            damaged[at] = rng.integers(0, 256)
        try:
            found = cards.read_litert_card(bytes(damaged))
        except FileError as error:  # the card's own bytes were hit
            assert "the LiteRT card" in str(error)
            continue
        assert found is None or isinstance(found, dict)  # no IndexError, no struct.error


def test_bad_requests_are_refused_before_anything_is_written(tmp_path, capsys):
    downup = zoo.get("emotion_downup", input_dim=5)
    with pytest.raises(NotCausalError, match="not a single chain|causal"):
        export(downup, tmp_path / "a", streaming=True)
    with pytest.raises(NotCausalError, match="padding='same'"):
        export(zoo.get("emotion_dilated", input_dim=5), tmp_path / "b", streaming=True)
    gru = zoo.get("gru_regressor", input_dim=5, outputs=2, units=4)
    with pytest.raises(ExportError, match="steps"):
        export(gru, tmp_path / "c.tflite", format="litert")
    with pytest.raises(ValueError, match="LiteRT only"):
        export(gru, tmp_path / "c.onnx", format="onnx", steps=4, quantize="int8")
    with pytest.raises(ValueError, match="format"):
        export(gru, tmp_path / "c.pt", format="torchscript")
    asinh = zoo.get("linear_ar", input_dim=3, outputs=3)
    inputs = keras.Input((None, 3))
    flex = keras.Model(inputs, keras.ops.arcsinh(asinh(inputs)))
    with pytest.raises(ExportError, match="Asinh"):
        export(flex, tmp_path / "d.tflite", format="litert", steps=4)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    (tmp_path / "e.tflite").write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="overwrite"):
        export(gru, tmp_path / "e.tflite", format="litert", steps=4)
    assert (tmp_path / "e.tflite").read_bytes() == b"mine"
    capsys.readouterr()
    assert main(["export", "gru_classifier", "--format", "litert", "--out",
                 str(tmp_path / "f.tflite")]) == 2
    assert main(["export", "emotion_downup", "--weights", "nope", "--format", "onnx",
                 "--out", str(tmp_path / "g.onnx")]) == 2
    assert main(["info", str(tmp_path / "e.tflite")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("zoo: ") for line in err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.tflite"]


def test_a_keras_file_exports_from_the_command_line(tmp_path, capsys):
    model = zoo.get("gru_regressor", input_dim=5, outputs=2, units=4)
    model.save(tmp_path / "mine.keras")
    out = tmp_path / "mine.onnx"
    assert main(["export", str(tmp_path / "mine.keras"), "--format", "onnx", "--steps", "6",
                 "--no-streaming", "--out", str(out)]) == 0
    card = read_card(out)
    assert card["source"] == "mine.keras" and len(card["source_sha256"]) == 64
    assert set(card["signatures"]) == {"serve"} and not (tmp_path / "mine.step.onnx").exists()
    x = inputs_for("gru_regressor", np.random.default_rng(4), steps=6)
    np.testing.assert_allclose(Runtime(out, "onnx").run("serve", sequences=x)["output"],
                               np.asarray(model(x)), atol=1e-4)
    capsys.readouterr()
    assert main(["export", str(tmp_path / "mine.keras"), "--format", "onnx", "--steps", "6",
                 "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err


def test_a_model_without_functional_inputs_is_refused_clearly(tmp_path):
    class Opaque(keras.Model):
        def call(self, x):
            return x * 2.0

    with pytest.raises(ExportError, match="export_endpoints"):
        export(Opaque(), tmp_path / "opaque")
    assert not list(tmp_path.iterdir())
