"""The recurrent layers are written once (`RecurrentLayer` with a `cell_class`), yet each
shows its whole signature and every argument's description in `help()`, and a layer over
a new cell is a class with one line, as the `RecurrentLayer` docstring says."""

import inspect
import pydoc

import keras
import numpy as np
import pytest
from keras import ops

import zoo
from zoo.layers import RecurrentCell, RecurrentLayer, signatures

LAYERS = [zoo.layers.Elman, zoo.layers.Jordan, zoo.layers.GRU, zoo.layers.PeepholeLSTM,
          zoo.layers.Bilinear, zoo.layers.GatedBilinear]
RNN = {name: p.default for name, p in inspect.signature(keras.layers.RNN.__init__).parameters.items()
       if name not in ("self", "cell", "kwargs")}


def _described(doc):
    return {name for key in signatures.entries(doc) for name in key}


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.__name__)
def test_help_shows_every_argument_of_the_layer_its_cell_and_keras(layer):
    parameters = inspect.signature(layer).parameters
    own = list(inspect.signature(layer.cell_class.__init__).parameters)[1:-1]  # self, **kwargs
    common = list(inspect.signature(RecurrentCell.__init__).parameters)[1:-1]
    assert list(parameters)[: len(own)] == own  # units, then the cell's own arguments
    assert set(common) <= set(parameters)
    assert {name: parameters[name].default for name in RNN} == RNN  # Keras's defaults
    assert parameters["jit_inference"].default is True
    assert set(parameters) - {"kwargs"} <= _described(layer.__doc__), "undescribed arguments"
    cell = {p.name for p in signatures.parameters(layer.cell_class)} | {"**kwargs"}
    assert cell <= _described(layer.cell_class.__doc__)  # the cell's help is completed too
    text = pydoc.render_doc(layer, renderer=pydoc.plaintext)
    assert f"{layer.__name__}(units, *, {own[1]}=" in text
    assert "return_sequences: return every step's output" in text and "Call arguments:" in text


def test_layers_refuse_what_they_do_not_take():
    with pytest.raises(ValueError, match=r"Unrecognized keyword arguments passed to GRU: \{'bogus'"):
        zoo.layers.GRU(4, bogus=1)
    with pytest.raises(TypeError, match="2 positional arguments"):
        zoo.layers.GRU(4, 0)  # everything after `units` by name: no silent reordering


@keras.saving.register_keras_serializable(package="test_signatures")
class ScaledCell(RecurrentCell):
    """`h_t = tanh(scale * (x W + h U + b))`.

    Args:
        scale: float, default 1.
    """

    def __init__(self, units, scale=1.0, **kwargs):
        super().__init__(units, **kwargs)
        self.scale = scale

    def step(self, x, states, bias, recurrent_mask=None):
        h = self.activation(self.scale * (self.project(x, bias)
                                          + ops.matmul(states[0], self.recurrent_kernel)))
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="test_signatures")
class Scaled(RecurrentLayer):
    """A layer over `ScaledCell`.

    {Args}
    """

    cell_class = ScaledCell


def test_a_layer_over_a_new_cell_is_one_line_and_round_trips(tmp_path):
    assert list(inspect.signature(Scaled).parameters)[:3] == ["units", "scale", "pb_dim"]
    assert "scale: float, default 1." in Scaled.__doc__
    assert "return_state: also return the final states." in Scaled.__doc__
    layer = Scaled(3, scale=0.5, pb_dim=1, return_sequences=True, name="scaled")
    assert layer.cell.scale == 0.5 and layer.cell.name == "scaledcell"
    x = np.random.default_rng(0).normal(size=(2, 4, 2)).astype("float32")
    pb = np.ones((2, 1), "float32")
    inputs = keras.Input((4, 2)), keras.Input((1,))
    model = keras.Model(inputs, layer(inputs[0], pb=inputs[1]))
    model.save(tmp_path / "scaled.keras")
    loaded = keras.saving.load_model(tmp_path / "scaled.keras")
    np.testing.assert_allclose(np.asarray(loaded([x, pb])), np.asarray(model([x, pb])), atol=1e-6)
    cell = layer.cell
    h = np.zeros((2, 3))
    for t in range(4):  # the equation, in NumPy
        h = np.tanh(0.5 * (x[:, t] @ np.asarray(cell.kernel) + h @ np.asarray(cell.recurrent_kernel)
                           + pb @ np.asarray(cell.pb_kernel) + np.asarray(cell.bias)))
    np.testing.assert_allclose(np.asarray(model([x, pb]))[:, -1], h, atol=1e-5)
