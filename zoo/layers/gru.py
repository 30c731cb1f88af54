"""Gated recurrent unit (Cho et al. 2014), in both of Keras's conventions."""

import keras
from keras import ops

from zoo.layers.recurrent import RecurrentCell, RecurrentLayer


@keras.saving.register_keras_serializable(package="zoo")
class GRUCell(RecurrentCell):
    """GRU cell with the weight layout of `keras.layers.GRUCell`.

    ```
    z  = sigma(x Wz + h Uz + b_z)            (update gate)
    r  = sigma(x Wr + h Ur + b_r)            (reset gate)
    h~ = tanh(x Wh + r * (h Uh + b_rh) + b_h)     reset_after=True (default, cuDNN)
    h~ = tanh(x Wh + (r * h) Uh + b_h)             reset_after=False (Cho et al.)
    h_t = z * h + (1 - z) * h~
    ```

    `kernel` is `(input_dim, 3 * units)` in the order z, r, h; `bias` is `(3 * units,)`,
    or `(2, 3 * units)` (input bias, recurrent bias) when `reset_after=True`.

    Args:
        units: positive int.
        recurrent_activation: gate activation, default `"sigmoid"`.
        reset_after: default True, apply the reset gate after the recurrent product.
        **kwargs: see `zoo.layers.recurrent.RecurrentCell`.


    Example:

    ```python
    rnn = keras.layers.RNN(zoo.layers.GRUCell(32))
    y = rnn(np.zeros((8, 100, 12), "float32"))  # (8, 32)
    ```

    Reference:
        Cho et al., "Learning phrase representations using RNN encoder-decoder for
        statistical machine translation", EMNLP 2014.
    """

    gates = 3

    def __init__(self, units, recurrent_activation="sigmoid", reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.reset_after = reset_after

    def bias_shape(self):
        if self.reset_after:
            return (2, 3 * self.units)
        return (3 * self.units,)

    def bias_of_inputs(self):
        if self.bias is not None and self.reset_after:
            return self.bias[0]
        return self.bias

    def step(self, x, states, bias, recurrent_mask=None):
        (h,) = states
        h_in = h if recurrent_mask is None else h * recurrent_mask
        units = self.units
        xz, xr, xh = ops.split(self.project(x, bias), 3, axis=-1)
        if self.reset_after:
            rec = ops.matmul(h_in, self.recurrent_kernel)
            if self.bias is not None:
                rec = rec + self.bias[1]
            rz, rr, rh = ops.split(rec, 3, axis=-1)
            update = self.recurrent_activation(xz + rz)
            reset = self.recurrent_activation(xr + rr)
            candidate = self.activation(xh + reset * rh)
        else:
            rec = ops.matmul(h_in, self.recurrent_kernel[:, : 2 * units])
            rz, rr = ops.split(rec, 2, axis=-1)
            update = self.recurrent_activation(xz + rz)
            reset = self.recurrent_activation(xr + rr)
            candidate = self.activation(
                xh + ops.matmul(reset * h_in, self.recurrent_kernel[:, 2 * units :])
            )
        h = update * h + (1.0 - update) * candidate
        return h, [h]

    def get_config(self):
        config = {
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
        }
        base_config = super().get_config()
        return {**base_config, **config}


@keras.saving.register_keras_serializable(package="zoo")
class GRU(RecurrentLayer):
    """GRU layer over `GRUCell` with a fused loop; computes what `keras.layers.GRU` does.

    Args:
        units: positive int, size of the hidden state.
        pb_dim: int, default 0: parametric-bias units; the layer then takes `pb=`.
        activation: default `"tanh"`.
        recurrent_activation: gate activation, default `"sigmoid"`.
        reset_after: default True, the reset gate after the recurrent product (cuDNN); False
            applies it before (Cho et al. 2014).
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
    layer = zoo.layers.GRU(64, return_sequences=True)
    y = layer(np.zeros((8, 100, 12), "float32"))          # (8, 100, 64)
    cho = zoo.layers.GRU(64, reset_after=False)           # reset before the recurrent product
    ```
    """

    def __init__(
        self,
        units,
        pb_dim=0,
        activation="tanh",
        recurrent_activation="sigmoid",
        reset_after=True,
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
        cell = GRUCell(
            units,
            pb_dim=pb_dim,
            activation=activation,
            recurrent_activation=recurrent_activation,
            reset_after=reset_after,
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
            name="grucell",
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
