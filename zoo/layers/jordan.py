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

    Example:

    ```python
    with_pb = zoo.layers.Jordan(32, output_units=8, pb_dim=2, return_sequences=True)
    y = with_pb(np.zeros((8, 100, 12), "float32"), pb=np.zeros((8, 2), "float32"))
    # y: (8, 100, 8), the fed-back outputs
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


@keras.saving.register_keras_serializable(package="zoo")
class Jordan(RecurrentLayer):
    """Jordan layer over `JordanCell`: the previous output, not the hidden state, is fed back."""

    cell_class = JordanCell
