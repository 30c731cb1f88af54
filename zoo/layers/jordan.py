"""Jordan network: the output, not the hidden state, is fed back."""

import keras
from keras import ops

from zoo.layers.recurrent import RecurrentCell, RecurrentLayer
from zoo.validation import check_positive


@keras.saving.register_keras_serializable(package="zoo")
class JordanCell(RecurrentCell):
    """A hidden layer fed by the input and the previous output, then an output layer.

    ```
    a_t = activation(x W + y_{t-1} U + pb V + b)        (units)
    y_t = output_activation(a_t W_out + b_out)           (output_units)
    ```

    The state is `y`, so `recurrent_kernel` is `(output_units, units)`; the output layer
    is `output_kernel` `(units, output_units)` and `output_bias`.

    Args:
        units: positive int, hidden size.
        output_units: positive int, size of `y`; default `units`.
        output_activation: default `"tanh"` (a bounded feedback keeps the loop stable).
        output_initializer: default `"glorot_uniform"`.
        **kwargs: see `zoo.layers.recurrent.RecurrentCell`.


    Example:

    ```python
    rnn = keras.layers.RNN(zoo.layers.JordanCell(32, output_units=4))
    y = rnn(np.zeros((8, 100, 12), "float32"))  # (8, 4)
    ```

    Reference:
        Jordan, "Serial order: a parallel distributed processing approach", 1986.
    """

    gates = 1

    def __init__(
        self,
        units,
        output_units=None,
        output_activation="tanh",
        output_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(units, **kwargs)
        output_units = units if output_units is None else output_units
        check_positive(output_units=output_units)
        self.output_units = output_units
        self.output_activation = keras.activations.get(output_activation)
        self.output_initializer = keras.initializers.get(output_initializer)
        self.state_size = [output_units]
        self.output_size = output_units

    @property
    def recurrent_dim(self):
        return self.output_units

    def build_cell(self):
        self.output_kernel = self.add_weight(
            shape=(self.units, self.output_units),
            name="output_kernel",
            initializer=self.output_initializer,
        )
        self.output_bias = self.add_weight(
            shape=(self.output_units,), name="output_bias", initializer="zeros"
        )

    def step(self, x, states, bias, recurrent_mask=None):
        (y,) = states
        if recurrent_mask is not None:
            y = y * recurrent_mask
        hidden = self.activation(self.project(x, bias) + ops.matmul(y, self.recurrent_kernel))
        y = self.output_activation(ops.matmul(hidden, self.output_kernel) + self.output_bias)
        return y, [y]

    def get_config(self):
        config = {
            "output_units": self.output_units,
            "output_activation": keras.activations.serialize(self.output_activation),
            "output_initializer": keras.initializers.serialize(self.output_initializer),
        }
        base_config = super().get_config()
        return {**base_config, **config}


@keras.saving.register_keras_serializable(package="zoo")
class Jordan(RecurrentLayer):
    """Jordan layer over `JordanCell`: the previous output, not the hidden state, is fed back.

    Args:
        units: positive int, size of the hidden state.
        pb_dim: int, default 0: parametric-bias units; the layer then takes `pb=`.
        activation: default `"tanh"`.
        output_units: size of the output fed back, default `units`.
        output_activation: default `"tanh"` (a bounded feedback keeps the loop stable).
        output_initializer: default `"glorot_uniform"`.
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
    layer = zoo.layers.Jordan(32, output_units=8, return_sequences=True)
    y = layer(np.zeros((8, 100, 12), "float32"))  # (8, 100, 8)
    ```
    """

    def __init__(
        self,
        units,
        pb_dim=0,
        activation="tanh",
        output_units=None,
        output_activation="tanh",
        output_initializer="glorot_uniform",
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
        cell = JordanCell(
            units,
            pb_dim=pb_dim,
            activation=activation,
            output_units=output_units,
            output_activation=output_activation,
            output_initializer=output_initializer,
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
            name="jordancell",
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
