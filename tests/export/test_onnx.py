"""ONNX exports in onnxruntime: every registered model, the classifiers that standardise
their input, and every pretrained entry, fed their documented inputs and nothing else.

Without `steps` the time axis stays open (each recurrent loop an ONNX `Loop`), so one file
runs at any length: each model runs at two. With `steps` the loops are unrolled (the
standardising classifiers take that route here). The step signature, where there is one,
reproduces the whole sequence frame by frame."""

import numpy as np
import onnxruntime as ort
import pytest

import zoo
from tests.models.test_all_models import CLASSES, INPUT_DIM, _case
from zoo import registry
from zoo.cli import main
from zoo.export import ExportError, export, read_card
from zoo.pretrained.loading import example_inputs, predict_examples

TOLERANCE = 1e-5
EXPORTABLE = [name for name in zoo.list_models() if registry.task(name) != "sentences"]


class Graphs:
    """The ONNX files of one export, each opened once; `run(signature, **inputs)`."""

    def __init__(self, path):
        self.card = read_card(path)
        self.sessions = {name: ort.InferenceSession(str(path.parent / file))
                         for name, file in self.card["files"].items()}

    def inputs(self, signature):
        return sorted(i.name for i in self.sessions[signature].get_inputs())

    def documented(self, signature):
        return sorted(self.card["signatures"][signature]["inputs"])

    def run(self, signature, **inputs):
        session = self.sessions[signature]
        names = [o.name for o in session.get_outputs()]
        return dict(zip(names, session.run(names, inputs)))


def _exported(model, path, **kwargs):
    export(model, path, format="onnx", **kwargs)
    graphs = Graphs(path)
    for signature in graphs.sessions:
        assert graphs.inputs(signature) == graphs.documented(signature), signature
    return graphs


def _check_step(graphs, model, x):
    """Frame by frame from zero states through `step`, against the whole sequence."""
    expected = np.asarray(model(x))
    states = {k: np.zeros([x.shape[0], *v["shape"][1:]], "float32") for k, v in
              graphs.card["signatures"]["step"]["inputs"].items() if k.startswith("state_")}
    outputs = []
    for t in range(x.shape[1]):
        result = graphs.run("step", frame=x[:, t], **states)
        states = {k.replace("next_", ""): v for k, v in result.items() if k != "output"}
        outputs.append(result["output"])
    streamed = np.stack(outputs, 1) if expected.ndim == 3 else outputs[-1]
    np.testing.assert_allclose(streamed, expected, atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("name", EXPORTABLE)
def test_every_registered_model_runs_on_its_documented_inputs_at_two_lengths(name, tmp_path):
    model, x, _, _ = _case(name)
    if name == "rnnpb":            # its generation network runs a fixed number of frames
        graphs = _exported(model, tmp_path / "model.onnx", steps=x["frames"].shape[1])
        np.testing.assert_allclose(graphs.run("serve", **x)["output"], np.asarray(model(x)),
                                   atol=TOLERANCE, rtol=0)
        return
    graphs = _exported(model, tmp_path / "model.onnx")
    assert graphs.card["signatures"]["serve"]["inputs"]["sequences"]["shape"][1] is None
    for length in (x.shape[1], 17):
        part = x[:, :length]
        np.testing.assert_allclose(graphs.run("serve", sequences=part)["output"],
                                   np.asarray(model(part)), atol=TOLERANCE, rtol=0)
    if "step" in graphs.sessions:
        _check_step(graphs, model, x[:, :8])


@pytest.mark.parametrize("name", registry.models_for("classes"))
def test_standardising_classifiers_carry_their_statistics_inside(name, tmp_path):
    """The mean and variance are constants of the graph, not inputs it waits for."""
    rng = np.random.default_rng(3)
    mean, std = rng.normal(size=INPUT_DIM) * 5, rng.uniform(0.5, 4, size=INPUT_DIM)
    model = zoo.get(name, input_dim=INPUT_DIM, classes=CLASSES, units=4,
                    input_mean=mean.tolist(), input_std=std.tolist())
    x = (rng.normal(size=(3, 10, INPUT_DIM)) * std + mean).astype("float32")
    x[1, 7:] = 0.0                                      # end-padded: masked, not standardised
    graphs = _exported(model, tmp_path / "model.onnx", steps=10)
    np.testing.assert_allclose(graphs.run("serve", sequences=x)["output"],
                               np.asarray(model(x)), atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("key", [key for key in zoo.pretrained.list_pretrained()
                                 if registry.task(key.split(".")[0]) != "sentences"])
def test_every_pretrained_entry_exports_from_the_command_line_and_runs(key, tmp_path, capsys):
    name, tag = key.split(".")
    out = tmp_path / f"{name}.onnx"
    assert main(["export", name, "--weights", tag, "--format", "onnx", "--out", str(out)]) == 0
    capsys.readouterr()
    graphs = Graphs(out)
    assert all(graphs.inputs(s) == graphs.documented(s) for s in graphs.sessions)
    entry = zoo.pretrained.card(key, examples=True)
    inputs = example_inputs(entry)
    feed = ({"frames": inputs[0], "pb": inputs[1]} if isinstance(inputs, tuple)
            else {"sequences": inputs})
    got = graphs.run("serve", **{k: np.asarray(v) for k, v in feed.items()})["output"]
    expected = predict_examples(zoo.get(name, weights=tag), entry)
    # 1e-5 of the outputs' size: the RNNPB's raw-scale predictions reach 75, where float32
    # itself resolves 1e-5.
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(got, expected, atol=TOLERANCE * scale, rtol=0)


def test_the_text_model_is_refused_with_a_reason():
    model, _, _, _ = _case("minilm_valence")
    with pytest.raises(ExportError, match="functional"):
        export(model, "unused.onnx", format="onnx")
