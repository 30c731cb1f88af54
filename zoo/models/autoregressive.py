"""Autoregressive baselines: the next frame from a window of past frames.

The RNN lecture "Sequential modeling" sets memoryless autoregressive models against
latent-state models: a linear AR(p) model predicts frame `t + 1` as a linear function of frames `t - p + 1 .. t`,
and a feed-forward AR model puts one hidden layer between the window and the prediction.
Neither keeps a state beyond its window; a recurrent net does. Both are causal Conv1D
stacks here (kernel = the order `p`, left padding), so they read `(batch, time, features)`
like every zoo sequence model, one prediction per frame, and train with `fit`.
"""

import keras

from zoo.models.base import SequenceModel
from zoo.registry import register_model
from zoo.validation import check_positive

REFERENCE = ("Autoregressive models against latent-state models: the RNN lecture 'Sequential "
             "modeling'; G. E. P. Box, G. M. Jenkins, Time Series Analysis, 1970 (AR(p)).")


@keras.saving.register_keras_serializable(package="zoo")
class LinearAR(SequenceModel):
    """`y_t = b + sum_{k=0..p-1} x_{t-k} A_k`: a linear function of the last `order` frames.

    Args:
        input_dim: features per frame.
        outputs: predicted values per frame. Default 1.
        order: frames in the window, `p`. Default 4.

    Example:

    ```python
    model = zoo.get("linear_ar", input_dim=88, outputs=88, order=4)   # logits of 88 keys
    model.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
    ```
    """

    reference = REFERENCE

    def __init__(self, input_dim, outputs=1, order=4, **kwargs):
        check_positive(input_dim=input_dim, outputs=outputs, order=order)
        inputs = keras.Input((None, input_dim), name="sequences")
        y = keras.layers.Conv1D(outputs, order, padding="causal", name="ar")(inputs)
        super().__init__(inputs=inputs, outputs=y, **kwargs)
        self._keep(input_dim=input_dim, outputs=outputs, order=order)

    @property
    def receptive_field(self):
        return self.order


@keras.saving.register_keras_serializable(package="zoo")
class FeedForwardAR(SequenceModel):
    """A hidden layer over the last `order` frames, then a linear prediction.

    Args:
        input_dim: features per frame.
        outputs: predicted values per frame. Default 1.
        order: frames in the window. Default 4.
        hidden: width of the hidden layer. Default 128.
        activation: of the hidden layer. Default `"relu"`.
        dropout: before the output layer. Default 0.

    Example:

    ```python
    model = zoo.get("feedforward_ar", input_dim=88, outputs=88, order=8, hidden=128)
    ```
    """

    reference = REFERENCE

    def __init__(self, input_dim, outputs=1, order=4, hidden=128, activation="relu",
                 dropout=0.0, **kwargs):
        check_positive(input_dim=input_dim, outputs=outputs, order=order, hidden=hidden)
        inputs = keras.Input((None, input_dim), name="sequences")
        x = keras.layers.Conv1D(hidden, order, padding="causal", activation=activation,
                                name="window")(inputs)
        x = keras.layers.Dropout(dropout, name="dropout")(x)
        y = keras.layers.Dense(outputs, name="head")(x)
        super().__init__(inputs=inputs, outputs=y, **kwargs)
        self._keep(input_dim=input_dim, outputs=outputs, order=order, hidden=hidden,
                   activation=activation, dropout=dropout)

    @property
    def receptive_field(self):
        return self.order


@register_model(task="rolls")
def linear_ar(input_dim=88, outputs=88, **overrides):
    """Linear AR(4) over 88 piano keys (the music default): a causal window, no state."""
    return LinearAR(input_dim, outputs, **{"order": 4, **overrides})


@register_model(task="rolls")
def feedforward_ar(input_dim=88, outputs=88, **overrides):
    """Feed-forward AR: a window of 4 frames, 128 ReLU units, a linear prediction."""
    return FeedForwardAR(input_dim, outputs, **{"order": 4, "hidden": 128, **overrides})
