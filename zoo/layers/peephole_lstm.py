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
        units: positive int.
        recurrent_activation: gate activation, default `"sigmoid"`.
        unit_forget_bias: default True, start the forget-gate bias at 1.
        peephole_initializer: default `"zeros"`.
        **kwargs: see `zoo.layers.recurrent.RecurrentCell` (`pb_dim`, `activation`,
            initializers, regularizers, `dropout`, `recurrent_dropout`, `seed`).


    Example:

    ```python
    rnn = keras.layers.RNN(zoo.layers.PeepholeLSTMCell(32))
    y = rnn(np.zeros((8, 100, 12), "float32"))  # (8, 32)
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

    def get_config(self):
        config = {
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
            "peephole_initializer": keras.initializers.serialize(self.peephole_initializer),
        }
        base_config = super().get_config()
        return {**base_config, **config}


@keras.saving.register_keras_serializable(package="zoo")
class PeepholeLSTM(RecurrentLayer):
    """Peephole LSTM layer over `PeepholeLSTMCell` with a fused loop.

    Args:
        units: positive int, size of the hidden state.
        pb_dim: int, default 0: parametric-bias units; the layer then takes `pb=`.
        activation: default `"tanh"`.
        recurrent_activation: gate activation, default `"sigmoid"`.
        unit_forget_bias: default True, start the forget-gate bias at 1.
        peephole_initializer: default `"zeros"`.
        use_bias: default True.
        kernel_initializer: default `"glorot_uniform"`.
        recurrent_initializer: default `"orthogonal"`.
        bias_initializer: default `"zeros"`.
        pb_initializer: initializer of `pb_kernel`, default `"glorot_uniform"`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: default None.
        kernel_format, recurrent_kernel_format: `"dense"` (default) or `"tt"`: the input
            or recurrent matrix stored as a tensor train (`zoo.layers.tt_matrix`).
        tt_rank, tt_cores: rank (default 4) and number of cores (default 3) of those trains.
        dropout: fraction of the input units dropped while training, one mask per sequence.
        recurrent_dropout: fraction of the fed-back state dropped while training.
        seed: seed of the dropout masks.
        return_sequences: return every step's output (default: the last one).
        return_state: also return the final states.
        go_backwards: read the sequence backwards.
        stateful: carry the states from one batch to the next.
        unroll: unroll the loop in Python (Keras's loop; short sequences only).
        zero_output_for_mask: masked steps output zeros instead of the previous output.
        jit_inference: compile the inference loop with XLA (default True).
        **kwargs: `name`, `dtype`, `trainable`, as for any Keras layer.

    Call arguments:
        sequences: `(batch, time, features)`.
        pb: `(batch, pb_dim)`, required when `pb_dim > 0`.
        initial_state, mask, training: as for `keras.layers.RNN`.

    Example:

    ```python
    layer = zoo.layers.PeepholeLSTM(64, return_sequences=True)
    y = layer(np.zeros((8, 100, 12), "float32"))  # (8, 100, 64)
    ```
    """

    def __init__(
        self,
        units,
        pb_dim=0,
        activation="tanh",
        recurrent_activation="sigmoid",
        unit_forget_bias=True,
        peephole_initializer="zeros",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        pb_initializer="glorot_uniform",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_format="dense",
        recurrent_kernel_format="dense",
        tt_rank=4,
        tt_cores=3,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        jit_inference=True,
        **kwargs,
    ):
        cell = PeepholeLSTMCell(
            units,
            pb_dim=pb_dim,
            activation=activation,
            recurrent_activation=recurrent_activation,
            unit_forget_bias=unit_forget_bias,
            peephole_initializer=peephole_initializer,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            pb_initializer=pb_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_format=kernel_format,
            recurrent_kernel_format=recurrent_kernel_format,
            tt_rank=tt_rank,
            tt_cores=tt_cores,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            dtype=kwargs.get("dtype"),
            name="peepholelstmcell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            zero_output_for_mask=zero_output_for_mask,
            jit_inference=jit_inference,
            **kwargs,
        )


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
