"""Peephole LSTM (Gers & Schmidhuber 2000): the gates look at the cell state."""

import keras
from keras import ops

from zoo.layers.recurrent import RecurrentCell, RecurrentLayer


@keras.saving.register_keras_serializable(package="zoo")
class PeepholeLSTMCell(RecurrentCell):
    """LSTM cell with diagonal peephole connections.

    ```
    i   = sigma(x Wi + h Ui + p_i * c_{t-1} + b_i)
    f   = sigma(x Wf + h Uf + p_f * c_{t-1} + b_f)
    c_t = f * c_{t-1} + i * tanh(x Wc + h Uc + b_c)
    o   = sigma(x Wo + h Uo + p_o * c_t + b_o)
    h_t = o * tanh(c_t)
    ```

    `kernel`, `recurrent_kernel` and `bias` have the layout of `keras.layers.LSTMCell`
    (gate order i, f, c, o), so weights move between the two; `peephole_i`,
    `peephole_f` and `peephole_o` are `(units,)` vectors. With zero peepholes the cell
    is `keras.layers.LSTMCell`.

    Args:
        recurrent_activation: gate activation, default `"sigmoid"`.
        unit_forget_bias: default True, start the forget-gate bias at 1.
        peephole_initializer: default `"zeros"`.

    Example:

    ```python
    layer = zoo.layers.PeepholeLSTM(64, return_sequences=True, dropout=0.1)
    sequences = layer(np.zeros((8, 100, 12), "float32"), training=True)  # (8, 100, 64)
    from_keras = zoo.layers.peephole_from_lstm(keras_lstm)  # its weights, peepholes zero
    ```

    Reference:
        Gers & Schmidhuber, "Recurrent nets that time and count", IJCNN 2000.
    """

    gates = 4

    def __init__(
        self,
        units,
        recurrent_activation="sigmoid",
        unit_forget_bias=True,
        peephole_initializer="zeros",
        **kwargs,
    ):
        super().__init__(units, **kwargs)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.peephole_initializer = keras.initializers.get(peephole_initializer)
        self.state_size = [units, units]

    def bias_initializer_for_build(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, base = self.units, self.bias_initializer

        def initializer(shape, dtype=None):
            return ops.concatenate(
                [
                    base((units,), dtype=dtype),
                    ops.ones((units,), dtype=dtype),
                    base((2 * units,), dtype=dtype),
                ]
            )

        return initializer

    def build_cell(self):
        for gate in ("i", "f", "o"):
            setattr(
                self,
                f"peephole_{gate}",
                self.add_weight(
                    shape=(self.units,), name=f"peephole_{gate}", initializer=self.peephole_initializer
                ),
            )

    def step(self, x, states, bias, recurrent_mask=None):
        h, c = states
        if recurrent_mask is not None:
            h = h * recurrent_mask
        z = self.project(x, bias) + ops.matmul(h, self.recurrent_kernel)
        zi, zf, zc, zo = ops.split(z, 4, axis=-1)
        i = self.recurrent_activation(zi + self.peephole_i * c)
        f = self.recurrent_activation(zf + self.peephole_f * c)
        c = f * c + i * self.activation(zc)
        o = self.recurrent_activation(zo + self.peephole_o * c)
        h = o * self.activation(c)
        return h, [h, c]


@keras.saving.register_keras_serializable(package="zoo")
class PeepholeLSTM(RecurrentLayer):
    """Peephole LSTM layer over `PeepholeLSTMCell` with a fused loop."""

    cell_class = PeepholeLSTMCell


def peephole_from_lstm(lstm, **kwargs):
    """A `PeepholeLSTM` with the weights of a built `keras.layers.LSTM`, peepholes zero.

    The new layer computes exactly what `lstm` computes until its peepholes are trained.

    Args:
        lstm: a built `keras.layers.LSTM` (or `keras.layers.RNN` over an `LSTMCell`).
        **kwargs: overrides for the new layer (e.g. `pb_dim`, `name`).
    """
    cell = getattr(lstm, "cell", None)
    if not isinstance(cell, keras.layers.LSTMCell):
        raise ValueError(f"Expected a keras.layers.LSTM; received {type(lstm).__name__}.")
    if not lstm.built:
        raise ValueError("The LSTM must be built (called once) before copying its weights.")
    if not cell.use_bias:
        raise ValueError("Copying an LSTM without bias is not supported.")
    config = {
        "units": cell.units,
        "activation": keras.activations.serialize(cell.activation),
        "recurrent_activation": keras.activations.serialize(cell.recurrent_activation),
        "return_sequences": lstm.return_sequences,
        "return_state": lstm.return_state,
        "go_backwards": lstm.go_backwards,
        "stateful": lstm.stateful,
        **kwargs,
    }
    layer = PeepholeLSTM(**config)
    kernel = cell.kernel
    layer.build((None, None, kernel.shape[0]))
    layer.cell.kernel.assign(kernel)
    layer.cell.recurrent_kernel.assign(cell.recurrent_kernel)
    layer.cell.bias.assign(cell.bias)
    for peephole in (layer.cell.peephole_i, layer.cell.peephole_f, layer.cell.peephole_o):
        peephole.assign(ops.zeros(peephole.shape, peephole.dtype))
    return layer
