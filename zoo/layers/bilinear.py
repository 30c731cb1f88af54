"""Second-order (bilinear) recurrent cell: the input modulates the recurrent matrix.

Mathews' tensor-RNN thesis (chapters 3-4): the transition adds the bilinear product of the
input and the previous state to the Elman pre-activations. The 3-way tensor is stored full, as a CP
decomposition (the multiplicative RNN of Sutskever et al. 2011) or as a tensor train; see
`zoo.layers.tensor_product`.
"""

import keras
from keras import ops

from zoo.layers.recurrent import RecurrentCell, RecurrentLayer
from zoo.layers.tensor_product import BilinearProduct


@keras.saving.register_keras_serializable(package="zoo")
class BilinearCell(RecurrentCell):
    """`h_t = activation(T(x_t, h_{t-1}) + x_t W + h_{t-1} U + pb V + b)`.

    `T(x, h)_k = sum_ij x_i h_j W3[i, j, k]` is the bilinear product of
    `zoo.layers.tensor_product.BilinearProduct`; the rest is `ElmanCell`.

    Args:
        units: positive int.
        tensor_format: `"full"`, `"cp"` (default) or `"tt"`.
        rank: CP rank (default 16) or tensor-train ranks (int or `(r1, r2)`).
        tensor_scale: initial spectral radius of the input-dependent recurrent matrix.
        **kwargs: see `zoo.layers.recurrent.RecurrentCell`.

    Example:

    ```python
    rnn = keras.layers.RNN(zoo.layers.BilinearCell(32, tensor_format="cp", rank=8))
    y = rnn(np.zeros((8, 100, 12), "float32"))  # (8, 32)
    ```

    Reference:
        I. Sutskever, J. Martens, G. Hinton, "Generating text with recurrent neural
        networks", ICML 2011 (the CP form); P. Mathews, tensor-RNN honours thesis, Victoria
        University of Wellington.
    """

    gates = 1

    def __init__(self, units, tensor_format="cp", rank=16, tensor_scale=0.1, **kwargs):
        super().__init__(units, **kwargs)
        self.tensor_product = BilinearProduct(units, tensor_format, rank, tensor_scale,
                                              seed=self.seed, name="tensor_product")

    def build_cell(self):
        self.tensor_product.build((self.input_dim, self.recurrent_dim))

    def step(self, x, states, bias, recurrent_mask=None):
        (h,) = states
        if recurrent_mask is not None:
            h = h * recurrent_mask
        pre = (self.project(x, bias) + ops.matmul(h, self.recurrent_kernel)
               + self.tensor_product.product(x, h))
        h = self.activation(pre)
        return h, [h]

    def get_config(self):
        product = self.tensor_product
        config = {"tensor_format": product.tensor_format, "rank": product.rank,
                  "tensor_scale": product.scale}
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="zoo")
class Bilinear(RecurrentLayer):
    """Bilinear (second-order) recurrent layer over `BilinearCell`, with a fused loop.

    Args:
        units: positive int, size of the hidden state.
        tensor_format: how the 3-way tensor is stored: `"full"`, `"cp"` (default) or
            `"tt"` (see `zoo.layers.tensor_product`).
        rank: CP rank (default 16) or tensor-train ranks (int or `(r1, r2)`).
        tensor_scale: spectral radius of the input-dependent recurrent matrix at
            initialisation, for unit-variance inputs (default 0.1).
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
    layer = zoo.layers.Bilinear(32, tensor_format="tt", rank=(4, 4), return_sequences=True)
    y = layer(np.zeros((8, 100, 12), "float32"))  # (8, 100, 32)
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
        cell = BilinearCell(
            units,
            tensor_format=tensor_format,
            rank=rank,
            tensor_scale=tensor_scale,
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
            name="bilinearcell",
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
