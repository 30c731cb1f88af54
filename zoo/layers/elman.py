"""Elman network (simple recurrent net): the hidden state is fed back."""

import keras
from keras import ops

from zoo.layers.recurrent import RecurrentCell, RecurrentLayer


@keras.saving.register_keras_serializable(package="zoo")
class ElmanCell(RecurrentCell):
    """`h_t = activation(x W + h_{t-1} U + pb V + b)`.

    With `recurrent_initializer="identity"` and `activation="relu"` this is the IRNN of
    Le et al. (2015). Same weights as `keras.layers.SimpleRNNCell`, plus PB.

    Args:
        units: positive int.
        **kwargs: see `zoo.layers.recurrent.RecurrentCell`.


    Example:

    ```python
    rnn = keras.layers.RNN(zoo.layers.ElmanCell(32), return_sequences=True)
    y = rnn(np.zeros((8, 100, 12), "float32"))  # (8, 100, 32)
    ```

    Reference:
        Elman, "Finding structure in time", Cognitive Science 1990.
    """

    gates = 1

    def step(self, x, states, bias, recurrent_mask=None):
        (h,) = states
        if recurrent_mask is not None:
            h = h * recurrent_mask
        h = self.activation(self.project(x, bias) + ops.matmul(h, self.recurrent_kernel))
        return h, [h]


@keras.saving.register_keras_serializable(package="zoo")
class Elman(RecurrentLayer):
    """Elman layer (simple recurrent net) over `ElmanCell`, with a fused loop.

    Args:
        units: positive int, size of the hidden state.
        pb_dim: int, default 0: parametric-bias units; the layer then takes `pb=`.
        activation: default `"tanh"`.
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
    layer = zoo.layers.Elman(32, return_sequences=True)
    y = layer(np.zeros((8, 100, 12), "float32"))  # (8, 100, 32)
    irnn = zoo.layers.Elman(32, activation="relu", recurrent_initializer="identity")
    ```
    """

    def __init__(
        self,
        units,
        pb_dim=0,
        activation="tanh",
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
        cell = ElmanCell(
            units,
            pb_dim=pb_dim,
            activation=activation,
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
            name="elmancell",
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
