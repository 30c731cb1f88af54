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
        recurrent_activation: gate activation, default `"sigmoid"`.
        reset_after: default True, the reset gate after the recurrent product (as cuDNN
            and `keras.layers.GRU`); False applies it before (Cho et al. 2014).

    Example:

    ```python
    layer = zoo.layers.GRU(64)
    y = layer(np.zeros((8, 100, 12), "float32"))     # (8, 64)
    cho = zoo.layers.GRU(64, reset_after=False)      # reset before the recurrent product
    in_keras = keras.layers.RNN(zoo.layers.GRUCell(64), return_sequences=True)
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


@keras.saving.register_keras_serializable(package="zoo")
class GRU(RecurrentLayer):
    """GRU layer over `GRUCell` with a fused loop; computes what `keras.layers.GRU` does."""

    cell_class = GRUCell
