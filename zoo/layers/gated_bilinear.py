"""Gated second-order recurrent cell: GRU gates around a bilinear transition.

Mathews' tensor-RNN thesis (section 4.2, "gates and long time dependencies"): a multiplicative
transition alone has the vanishing and exploding gradients of any Elman-style net; wrapped
in GRU gates (Cho et al. 2014, reset before the recurrent product), the new state is an
interpolation `h_t = z * h_{t-1} + (1 - z) * h~` and gradients pass through `z` along the
additive path. The candidate adds the bilinear product of the input and the reset state.
"""

import keras
from keras import ops

from zoo.layers.bilinear import BilinearCell
from zoo.layers.recurrent import RecurrentLayer


@keras.saving.register_keras_serializable(package="zoo")
class GatedBilinearCell(BilinearCell):
    """GRU-style gates around a bilinear candidate.

    ```
    z  = sigma(x Wz + h Uz + b_z)                          (update gate)
    r  = sigma(x Wr + h Ur + b_r)                          (reset gate)
    h~ = tanh(T(x, r * h) + x Wh + (r * h) Uh + b_h)       (bilinear candidate)
    h_t = z * h + (1 - z) * h~
    ```

    `kernel` is `(input_dim, 3 * units)` and `recurrent_kernel` `(units, 3 * units)` in
    the order z, r, h, as in `GRUCell(reset_after=False)`; `T` is the bilinear product of
    `zoo.layers.tensor_product.BilinearProduct`, set up as in `BilinearCell`.

    Args:
        units: positive int.
        tensor_format: `"full"`, `"cp"` (default) or `"tt"`.
        rank: CP rank (default 16) or tensor-train ranks (int or `(r1, r2)`).
        tensor_scale: initial spectral radius of the input-dependent recurrent matrix.
        recurrent_activation: gate activation, default `"sigmoid"`.
        **kwargs: see `zoo.layers.recurrent.RecurrentCell`.

    Example:

    ```python
    rnn = keras.layers.RNN(zoo.layers.GatedBilinearCell(32, rank=8))
    y = rnn(np.zeros((8, 100, 12), "float32"))  # (8, 32)
    ```

    Reference:
        P. Mathews, tensor-RNN honours thesis, VUW (section 4.2); K. Cho et al., EMNLP
        2014 (the gates).
    """

    gates = 3

    def __init__(self, units, tensor_format="cp", rank=16, tensor_scale=0.1,
                 recurrent_activation="sigmoid", **kwargs):
        super().__init__(units, tensor_format, rank, tensor_scale, **kwargs)
        self.recurrent_activation = keras.activations.get(recurrent_activation)

    def step(self, x, states, bias, recurrent_mask=None):
        (h,) = states
        h_in = h if recurrent_mask is None else h * recurrent_mask
        units = self.units
        xz, xr, xh = ops.split(self.project(x, bias), 3, axis=-1)
        rz, rr = ops.split(ops.matmul(h_in, self.recurrent_kernel[:, : 2 * units]), 2, axis=-1)
        update = self.recurrent_activation(xz + rz)
        reset = self.recurrent_activation(xr + rr)
        rh = reset * h_in
        candidate = self.activation(xh + ops.matmul(rh, self.recurrent_kernel[:, 2 * units :])
                                    + self.tensor_product.product(x, rh))
        h = update * h + (1.0 - update) * candidate
        return h, [h]

    def get_config(self):
        return {**super().get_config(),
                "recurrent_activation": keras.activations.serialize(self.recurrent_activation)}


@keras.saving.register_keras_serializable(package="zoo")
class GatedBilinear(RecurrentLayer):
    """Gated bilinear recurrent layer over `GatedBilinearCell`, with a fused loop.

    Args:
        units: positive int, size of the hidden state.
        tensor_format: how the 3-way tensor is stored: `"full"`, `"cp"` (default) or
            `"tt"` (see `zoo.layers.tensor_product`).
        rank: CP rank (default 16) or tensor-train ranks (int or `(r1, r2)`).
        tensor_scale: spectral radius of the input-dependent recurrent matrix at
            initialisation, for unit-variance inputs (default 0.1).
        pb_dim: int, default 0: parametric-bias units; the layer then takes `pb=`.
        activation: default `"tanh"`.
        recurrent_activation: gate activation, default `"sigmoid"`.
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
        seed: seed of the dropout masks and of the tensor's initialisation.
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
    layer = zoo.layers.GatedBilinear(64, rank=16, return_sequences=True)
    y = layer(np.zeros((8, 200, 2), "float32"))  # (8, 200, 64)
    ```
    """

    def __init__(
        self,
        units,
        tensor_format="cp",
        rank=16,
        tensor_scale=0.1,
        pb_dim=0,
        activation="tanh",
        recurrent_activation="sigmoid",
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
        cell = GatedBilinearCell(
            units,
            tensor_format=tensor_format,
            rank=rank,
            tensor_scale=tensor_scale,
            pb_dim=pb_dim,
            activation=activation,
            recurrent_activation=recurrent_activation,
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
            name="gatedbilinearcell",
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
