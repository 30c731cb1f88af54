"""Crop a sequence to the length of a reference sequence."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class CropToReference(keras.layers.Layer):
    """Crops `(batch, time, channels)` to the time length of a reference tensor.

    Up-sampling networks produce `factor**stages * ceil(T / factor**stages)` frames;
    this layer trims them back to the input's `T`, which is only known at run time.

    Call arguments:
        inputs: a list `[x, reference]`; `x` must be at least as long as `reference`.

    Args:
        **kwargs: `name`, `dtype`, as for any Keras layer; the layer has no settings.

    Example:

    ```python
    y = zoo.layers.CropToReference()([upsampled, inputs])  # upsampled cut to len(inputs)
    ```
    """

    def call(self, inputs):
        x, reference = inputs
        return x[:, : ops.shape(reference)[1], :]

    def compute_output_shape(self, input_shape):
        x_shape, reference_shape = input_shape
        return (x_shape[0], reference_shape[1], x_shape[2])
