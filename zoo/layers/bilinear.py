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
        tensor_format: how the 3-way tensor is stored: `"full"`, `"cp"` (default) or
            `"tt"` (see `zoo.layers.tensor_product`).
        rank: CP rank (default 16) or tensor-train ranks (int or `(r1, r2)`).
        tensor_scale: spectral radius of the input-dependent recurrent matrix at
            initialisation, for unit-variance inputs (default 0.1).
        seed: int or None, seed of the dropout masks and of the tensor's initialisation.

    Example:

    ```python
    cp = zoo.layers.Bilinear(32, rank=8)                          # CP, rank 8
    train = zoo.layers.Bilinear(32, tensor_format="tt", rank=(4, 4), return_sequences=True)
    y = train(np.zeros((8, 100, 12), "float32"))                  # (8, 100, 32)
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
        product = self.tensor_product  # the arguments as the product checked them
        self.tensor_format, self.rank, self.tensor_scale = (product.tensor_format, product.rank,
                                                            product.scale)

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


@keras.saving.register_keras_serializable(package="zoo")
class Bilinear(RecurrentLayer):
    """Bilinear (second-order) recurrent layer over `BilinearCell`, with a fused loop."""

    cell_class = BilinearCell
