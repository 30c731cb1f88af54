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
    """Elman layer over `ElmanCell` with a fused loop (see `RecurrentLayer`)."""

    cell_class = ElmanCell
