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
        recurrent_activation: gate activation, default `"sigmoid"`.

    Example:

    ```python
    gated = zoo.layers.GatedBilinear(64, rank=16)
    last = gated(np.zeros((8, 200, 2), "float32"))                 # (8, 64)
    tt = zoo.layers.GatedBilinear(64, tensor_format="tt", rank=(4, 4))  # tensor train
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


@keras.saving.register_keras_serializable(package="zoo")
class GatedBilinear(RecurrentLayer):
    """Gated bilinear recurrent layer over `GatedBilinearCell` (GRU gates around the
    bilinear candidate `T(x, r * h)`), with a fused loop.
    """

    cell_class = GatedBilinearCell
