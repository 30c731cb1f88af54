"""Continuous emotion regressors: frame-level arousal/valence from acoustic features.

All take `(batch, time, input_dim)` features (default: 40 log-Mel filterbanks stacked 4x to
160 dims at 40 ms) and return `(batch, time, outputs)`, one prediction per frame.

Scaling: the models expect per-speaker z-normalised features (zero mean, unit variance per
feature over each speaker's frames), as in the paper; `zoo.data.load_avec` does this by
default (`normalize=True`), and `Corpus.znorm()` does it for corpora of your own.
"""

import keras

from zoo.layers import CropToReference
from zoo.models.base import SequenceModel
from zoo.registry import register_model
from zoo.validation import check_positive, check_rate

KHORRAM_2017 = (
    "S. Khorram, Z. Aldeneh, D. Dimitriadis, M. McInnis, E. Mower Provost, "
    '"Capturing Long-term Temporal Dependencies with Convolutional Networks for '
    'Continuous Emotion Recognition", Interspeech 2017.'
)


@keras.saving.register_keras_serializable(package="zoo")
class EmotionDilated(SequenceModel):
    """Stacked dilated Conv1D regressor (Khorram et al. 2017, Section 5.1).

    Layer `n` (from 0) has dilation `2**n`, so `depth` layers of width `kernel_size` see
    `1 + (kernel_size - 1) * (2**depth - 1)` frames: 1024 frames (41 s) at the defaults.
    The paper gives depth 10 and width 32 but not the kernel; we use 2, the WaveNet choice
    it builds on, which doubles the receptive field per layer without gaps.

    Args:
        input_dim: features per frame. Default 160.
        outputs: predicted dimensions (arousal, valence). Default 2.
        depth: number of dilated layers. Default 10.
        filters: channels per layer. Default 32.
        kernel_size: taps per dilated filter. Default 2.
        causal: if True each output sees only past and present frames (streaming); if False
            (default) the context is centred, as for whole recordings in the paper.
        activation: hidden activation. Default "relu".
        dropout: dropout rate between layers. Default 0.


    Example:

    ```python
    model = zoo.get("emotion_dilated", input_dim=160, outputs=2)   # 10 layers, 32 wide
    model.compile("adam", loss=zoo.losses.CCCLoss(), metrics=[zoo.metrics.CCC()])
    model.fit(features, labels, sample_weight=mask)               # (n, T, 160), (n, T, 2)
    ```

    Reference:
        Khorram et al., Interspeech 2017.
    """

    reference = KHORRAM_2017

    def __init__(self, input_dim=160, outputs=2, depth=10, filters=32, kernel_size=2,
                 causal=False, activation="relu", dropout=0.0, **kwargs):
        check_positive(input_dim=input_dim, outputs=outputs, depth=depth, filters=filters,
                        kernel_size=kernel_size)
        check_rate("dropout", dropout)
        inputs = keras.Input((None, input_dim), name="features")
        x = inputs
        for n in range(depth):
            x = keras.layers.Conv1D(
                filters, kernel_size, dilation_rate=2**n,
                padding="causal" if causal else "same", activation=activation,
                name=f"dilated_{n}",
            )(x)
            if dropout:
                x = keras.layers.Dropout(dropout, name=f"dropout_{n}")(x)
        y = keras.layers.Conv1D(outputs, 1, name="head")(x)
        super().__init__(inputs=inputs, outputs=y, **kwargs)
        self._keep(input_dim=input_dim, outputs=outputs, depth=depth, filters=filters,
                   kernel_size=kernel_size, causal=causal, activation=activation,
                   dropout=dropout)

    @property
    def receptive_field(self):
        return 1 + (self.kernel_size - 1) * (2**self.depth - 1)


@keras.saving.register_keras_serializable(package="zoo")
class EmotionDownUp(SequenceModel):
    """Down-sampling/up-sampling regressor (Khorram et al. 2017, Section 5.2).

    `stages` blocks of Conv1D + max-pooling by `factor`, one middle Conv1D, then `stages`
    Conv1DTranspose layers with stride `factor`, a 1x1 output layer, and a crop back to
    the input length. Every length >= 1 works: pooling pads the tail, so the up-sampled
    signal is `factor**stages * ceil(T / factor**stages)` long before the crop. The output
    is generated from a signal `factor**stages` times slower (81x: one value per 3.24 s),
    which is what keeps it smooth.

    The paper gives 4 stages, factor 3, width 32 (arousal) or 128 (valence), but no
    kernel sizes; we use 5 for the convolutions (about 700 frames of context at the
    defaults, near the 512 frames the paper found best) and `2 * factor` for the transposed
    convolutions, so neighbouring low-rate values overlap and interpolate instead of
    producing steps.

    Args:
        input_dim: features per frame. Default 160.
        outputs: predicted dimensions. Default 2.
        stages: down-sampling (and up-sampling) stages. Default 4.
        factor: pooling size and up-sampling stride. Default 3.
        filters: channels per layer. Default 32.
        kernel_size: taps of the down-sampling and middle convolutions. Default 5.
        activation: hidden activation. Default "relu".
        dropout: dropout rate after the middle layer. Default 0.


    Example:

    ```python
    model = zoo.get("emotion_downup", input_dim=160, outputs=2)
    y = model.predict(np.zeros((1, 1000, 160), "float32"))       # (1, 1000, 2): any length
    ```

    Reference:
        Khorram et al., Interspeech 2017.
    """

    reference = KHORRAM_2017

    def __init__(self, input_dim=160, outputs=2, stages=4, factor=3, filters=32,
                 kernel_size=5, activation="relu", dropout=0.0, **kwargs):
        check_positive(input_dim=input_dim, outputs=outputs, stages=stages, factor=factor,
                        filters=filters, kernel_size=kernel_size)
        check_rate("dropout", dropout)
        inputs = keras.Input((None, input_dim), name="features")
        x = inputs
        for n in range(stages):
            x = keras.layers.Conv1D(filters, kernel_size, padding="same",
                                    activation=activation, name=f"down_conv_{n}")(x)
            x = keras.layers.MaxPooling1D(factor, padding="same", name=f"down_pool_{n}")(x)
        x = keras.layers.Conv1D(filters, kernel_size, padding="same", activation=activation,
                                name="middle")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name="dropout")(x)
        for n in range(stages):
            x = keras.layers.Conv1DTranspose(
                filters, 2 * factor, strides=factor, padding="same", activation=activation,
                name=f"up_{n}",
            )(x)
        x = CropToReference(name="crop")([x, inputs])
        y = keras.layers.Conv1D(outputs, 1, name="head")(x)
        super().__init__(inputs=inputs, outputs=y, **kwargs)
        self._keep(input_dim=input_dim, outputs=outputs, stages=stages, factor=factor,
                   filters=filters, kernel_size=kernel_size, activation=activation,
                   dropout=dropout)

    @property
    def receptive_field(self):
        """Most input frames that one output frame depends on, away from the edges.

        Traced backwards through the layers with interval arithmetic for each output
        phase modulo `factor**stages` (the network is periodic, not shift-invariant).
        """
        period = self.factor**self.stages
        widest = 0
        for phase in range(period):
            lo, hi = phase, phase
            up_kernel, pad = 2 * self.factor, (2 * self.factor - self.factor) // 2
            for _ in range(self.stages):
                lo = -((-(lo + pad - up_kernel + 1)) // self.factor)
                hi = (hi + pad) // self.factor
            conv_pad = (self.kernel_size - 1) // 2
            lo, hi = lo - conv_pad, hi - conv_pad + self.kernel_size - 1  # middle
            for _ in range(self.stages):
                lo, hi = lo * self.factor, hi * self.factor + self.factor - 1
                lo, hi = lo - conv_pad, hi - conv_pad + self.kernel_size - 1
            widest = max(widest, hi - lo + 1)
        return widest


@keras.saving.register_keras_serializable(package="zoo")
class EmotionBLSTM(SequenceModel):
    """Bidirectional LSTM regressor, the recurrent baseline of Khorram et al. 2017.

    Built from `keras.layers.Bidirectional(keras.layers.LSTM(...))` with Keras defaults,
    followed by a per-frame linear output layer.

    Args:
        input_dim: features per frame. Default 160.
        outputs: predicted dimensions. Default 2.
        units: LSTM units per direction. Default 32.
        depth: stacked bidirectional layers. Default 2.
        dropout: input dropout of each LSTM. Default 0.


    Example:

    ```python
    model = zoo.get("emotion_blstm", input_dim=160, outputs=2)
    model.compile("adam", loss=zoo.losses.CCCLoss())
    ```

    Reference:
        Khorram et al., Interspeech 2017 (BLSTM row of Tables 1-2).
    """

    reference = KHORRAM_2017

    def __init__(self, input_dim=160, outputs=2, units=32, depth=2, dropout=0.0, **kwargs):
        check_positive(input_dim=input_dim, outputs=outputs, units=units, depth=depth)
        check_rate("dropout", dropout)
        inputs = keras.Input((None, input_dim), name="features")
        x = inputs
        for n in range(depth):
            x = keras.layers.Bidirectional(
                keras.layers.LSTM(units, return_sequences=True, dropout=dropout),
                name=f"blstm_{n}",
            )(x)
        y = keras.layers.Dense(outputs, name="head")(x)
        super().__init__(inputs=inputs, outputs=y, **kwargs)
        self._keep(input_dim=input_dim, outputs=outputs, units=units, depth=depth,
                   dropout=dropout)


@keras.saving.register_keras_serializable(package="zoo")
class EmotionFilter(SequenceModel):
    """The preliminary model of Khorram et al. 2017 (Section 4): one long filter.

    A Conv1D with `filters` filters of `length` frames (centred), tanh, then a linear
    per-frame output. The paper varied `length` from 2 to 2048 frames with one filter per
    dimension to show that longer context helps.

    Args:
        input_dim: features per frame. Default 160.
        outputs: predicted dimensions. Default 2.
        length: filter length in frames. Default 512 (the paper's knee).
        filters: number of filters. Default 1, as in the paper.


    Example:

    ```python
    model = zoo.get("emotion_filter", input_dim=160, outputs=2)    # one long filter
    ```

    Reference:
        Khorram et al., Interspeech 2017, Figure 1.
    """

    reference = KHORRAM_2017

    def __init__(self, input_dim=160, outputs=2, length=512, filters=1, **kwargs):
        check_positive(input_dim=input_dim, outputs=outputs, length=length, filters=filters)
        inputs = keras.Input((None, input_dim), name="features")
        x = keras.layers.Conv1D(filters, length, padding="same", activation="tanh",
                                name="filter")(inputs)
        y = keras.layers.Dense(outputs, name="head")(x)
        super().__init__(inputs=inputs, outputs=y, **kwargs)
        self._keep(input_dim=input_dim, outputs=outputs, length=length, filters=filters)

    @property
    def receptive_field(self):
        return self.length


@register_model(task="frames")
def emotion_dilated(**overrides):
    """Dilated convolutions, 10 layers x 32 filters, dilation 2^n (Khorram et al. 2017)."""
    return EmotionDilated(**{"depth": 10, "filters": 32, "kernel_size": 2, **overrides})


@register_model(task="frames")
def emotion_downup(**overrides):
    """Down/up-sampling net: 4 stages, factor 3, 32 filters (Khorram et al. 2017)."""
    return EmotionDownUp(**{"stages": 4, "factor": 3, "filters": 32, **overrides})


@register_model(task="frames")
def emotion_blstm(**overrides):
    """Bidirectional LSTM baseline, 2 layers x 32 units per direction."""
    return EmotionBLSTM(**{"units": 32, "depth": 2, **overrides})


@register_model(task="frames")
def emotion_filter(**overrides):
    """One tanh filter of 512 frames and a linear output (Khorram et al. 2017, Fig. 1)."""
    return EmotionFilter(**{"length": 512, "filters": 1, **overrides})
