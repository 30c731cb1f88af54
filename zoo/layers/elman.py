"""Elman network (simple recurrent net): the hidden state is fed back."""

import keras
from keras import ops

from zoo.layers.recurrent import RecurrentCell, RecurrentLayer


@keras.saving.register_keras_serializable(package="zoo")
class ElmanCell(RecurrentCell):
    """`h_t = activation(x W + h_{t-1} U + pb V + b)`.

    With `recurrent_initializer="identity"` and `activation="relu"` this is the IRNN of
    Le et al. (2015). Same weights as `keras.layers.SimpleRNNCell`, plus PB.

    {Args}

    Example:

    ```python
    layer = zoo.layers.Elman(32, return_sequences=True)
    y = layer(np.zeros((8, 100, 12), "float32"))                 # (8, 100, 32)
    irnn = zoo.layers.Elman(32, activation="relu", recurrent_initializer="identity")
    keras_loop = keras.layers.RNN(zoo.layers.ElmanCell(32))      # the cell alone
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
    """Elman layer (simple recurrent net) over `ElmanCell`, with a fused loop."""

    cell_class = ElmanCell
