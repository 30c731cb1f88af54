"""Recurrent sequence classifiers and frame-level regressors over any zoo cell.

Registered as `<cell>_classifier` and `<cell>_regressor` for every cell in `CELLS`
(`peephole_lstm`, `gru`, `elman`, `jordan`, the tensor cells `bilinear` and
`gated_bilinear` (CP rank 16 by default), and Keras's own `lstm` as a baseline).
"""

import keras
import numpy as np

from zoo.layers import GRU, Bilinear, Elman, GatedBilinear, Jordan, PeepholeLSTM
from zoo.models.base import SequenceModel
from zoo.registry import register_model
from zoo.validation import check_positive, check_rate

#: Recurrent layers by name. Each takes `units` and the usual RNN keyword arguments.
CELLS = {
    "peephole_lstm": PeepholeLSTM,
    "gru": GRU,
    "elman": Elman,
    "jordan": Jordan,
    "bilinear": Bilinear,
    "gated_bilinear": GatedBilinear,
    "lstm": keras.layers.LSTM,
}


#: Where each cell comes from, shown by `zoo.info`.
REFERENCES = {
    "peephole_lstm": 'F. A. Gers, J. Schmidhuber, "Recurrent nets that time and count", IJCNN 2000.',
    "gru": "K. Cho et al., \"Learning phrase representations using RNN encoder-decoder for "
    'statistical machine translation", EMNLP 2014.',
    "elman": 'J. L. Elman, "Finding structure in time", Cognitive Science 14 (1990).',
    "jordan": 'M. I. Jordan, "Serial order: a parallel distributed processing approach", 1986.',
    "bilinear": 'I. Sutskever, J. Martens, G. Hinton, "Generating text with recurrent neural '
    'networks", ICML 2011 (multiplicative/CP form); P. Mathews, tensor-RNN honours thesis, '
    'VUW (ch. 3-4).',
    "gated_bilinear": "P. Mathews, tensor-RNN honours thesis, VUW (section 4.2: gates around a "
    "tensor "
    'transition); K. Cho et al., EMNLP 2014 (GRU gates).',
    "lstm": 'S. Hochreiter, J. Schmidhuber, "Long short-term memory", Neural Computation 1997.',
}


def recurrent_layer(cell, units, **kwargs):
    """Builds the recurrent layer called `cell` (a key of `CELLS`)."""
    if cell not in CELLS:
        raise ValueError(f"Unknown cell {cell!r}. Available: {', '.join(CELLS)}.")
    return CELLS[cell](units, **kwargs)



def _stack(x, cell, units, depth, bidirectional, dropout, recurrent_dropout, last_sequences,
           cell_options=None):
    if cell_options is not None and not isinstance(cell_options, dict):
        raise TypeError(f"`cell_options` must be a dict or None. Received: {cell_options!r}")
    for n in range(depth):
        layer = recurrent_layer(
            cell,
            units,
            return_sequences=last_sequences or n < depth - 1,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            name=f"{cell}_{n}",
            **(cell_options or {}),
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{n}")
        x = layer(x)
    return x


def _standardization(mean, std, input_dim):
    """A `Normalization` layer from per-channel statistics, or None when neither is given."""
    if mean is None and std is None:
        return None
    if mean is None or std is None:
        raise ValueError("Pass both `input_mean` and `input_std`, or neither.")
    mean, std = np.asarray(mean, "float64"), np.asarray(std, "float64")
    if mean.shape != (input_dim,) or std.shape != (input_dim,):
        raise ValueError(f"`input_mean` and `input_std` need one value per channel ({input_dim}). "
                         f"Received shapes {mean.shape} and {std.shape}.")
    if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
        raise ValueError("`input_mean` must be finite and `input_std` finite and > 0.")
    return keras.layers.Normalization(mean=mean.tolist(), variance=(std**2).tolist(),
                                      name="standardize")


@keras.saving.register_keras_serializable(package="zoo")
class SequenceClassifier(SequenceModel):
    """One class per sequence: stacked recurrent layers, the last state, a dense head.

    Sequences of different lengths are end-padded with `mask_value` frames and masked
    (`keras.layers.Masking`), so padding does not reach the final state.

    Scaling: the recurrent layers work best on standardised channels (zero mean, unit
    variance). Standardise the inputs yourself, or pass the training split's per-channel
    `input_mean` and `input_std` and the model takes raw frames: a
    `keras.layers.Normalization` after the mask applies them. The pretrained entries are
    built this way from their card's statistics, so they take raw inputs.

    Args:
        input_dim: features per frame.
        classes: number of classes.
        cell: a key of `CELLS`. Default `"peephole_lstm"`.
        units: units per layer (per direction). Default 64.
        depth: recurrent layers. Default 1.
        bidirectional: wrap each layer in `keras.layers.Bidirectional`. Default False.
        dropout: input dropout of each recurrent layer. Default 0.
        recurrent_dropout: recurrent dropout. Default 0.
        head_dropout: dropout before the head. Default 0.
        mask_value: frames equal to this everywhere are padding; None: no masking.
            Default 0.0.
        activation: of the head; `"softmax"` (default) for probabilities, None for logits.
        input_mean, input_std: None (default: inputs are already standardised), or one value
            per channel each: the model standardises raw inputs with them.
        cell_options: other arguments of the cell's layer (tensor rank and format, ...).
            Default None.

    Example:

    ```python
    train = zoo.data.load_uea("JapaneseVowels", "train")
    x, _ = train.padded()
    model = zoo.get("gru_classifier", input_dim=12, classes=9)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, train.labels, epochs=30)
    ```
    """

    def __init__(self, input_dim, classes, cell="peephole_lstm", units=64, depth=1,
                 bidirectional=False, dropout=0.0, recurrent_dropout=0.0, head_dropout=0.0,
                 mask_value=0.0, activation="softmax", input_mean=None, input_std=None,
                 cell_options=None, **kwargs):
        check_positive(input_dim=input_dim, classes=classes, units=units, depth=depth)
        scaling = _standardization(input_mean, input_std, input_dim)
        for key, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout),
                          ("head_dropout", head_dropout)):
            check_rate(key, rate)
        inputs = keras.Input((None, input_dim), name="sequences")
        x = inputs if mask_value is None else keras.layers.Masking(mask_value)(inputs)
        x = x if scaling is None else scaling(x)
        x = _stack(x, cell, units, depth, bidirectional, dropout, recurrent_dropout, False,
                   cell_options)
        if head_dropout:
            x = keras.layers.Dropout(head_dropout)(x)
        outputs = keras.layers.Dense(classes, activation=activation, name="head")(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self._keep(input_dim=input_dim, classes=classes, cell=cell, units=units, depth=depth,
                   bidirectional=bidirectional, dropout=dropout,
                   recurrent_dropout=recurrent_dropout, head_dropout=head_dropout,
                   mask_value=mask_value, activation=activation,
                   input_mean=input_mean, input_std=input_std, cell_options=cell_options)
        self.reference = REFERENCES[cell]

    def _warn_of_padding(self, x, kwargs):
        # One loss term per sequence: a per-frame sample_weight does not apply. Padding is
        # masked by `mask_value`; with None the caller said every frame is data (an image
        # read pixel by pixel, whose blank pixels end most rows).
        return


@keras.saving.register_keras_serializable(package="zoo")
class SequenceRegressor(SequenceModel):
    """One prediction per frame: stacked recurrent layers and a per-frame linear head.

    Scaling: standardise each input feature (zero mean, unit variance over the training
    frames) before calling the model; recurrent cells saturate on large raw values.

    Args:
        input_dim: features per frame.
        outputs: predicted values per frame. Default 1.
        cell: a key of `CELLS`. Default `"peephole_lstm"`.
        units: units per layer (per direction). Default 64.
        depth: recurrent layers. Default 1.
        bidirectional: default False (a causal model that can stream).
        dropout, recurrent_dropout: of the recurrent layers. Default 0.
        cell_options: other arguments of the cell's layer, e.g.
            `{"tensor_format": "cp", "rank": 4}` for the tensor cells. Default None.

    Example:

    ```python
    model = zoo.get("gru_regressor", input_dim=40, outputs=2)
    model.compile("adam", loss=zoo.losses.CCCLoss())
    model.fit(x, y)                                   # (n, T, 40) -> (n, T, 2)
    ```
    """

    def __init__(self, input_dim, outputs=1, cell="peephole_lstm", units=64, depth=1,
                 bidirectional=False, dropout=0.0, recurrent_dropout=0.0, cell_options=None,
                 **kwargs):
        check_positive(input_dim=input_dim, outputs=outputs, units=units, depth=depth)
        check_rate("dropout", dropout)
        check_rate("recurrent_dropout", recurrent_dropout)
        inputs = keras.Input((None, input_dim), name="sequences")
        x = _stack(inputs, cell, units, depth, bidirectional, dropout, recurrent_dropout, True,
                   cell_options)
        predictions = keras.layers.Dense(outputs, name="head")(x)
        super().__init__(inputs=inputs, outputs=predictions, **kwargs)
        self._keep(input_dim=input_dim, outputs=outputs, cell=cell, units=units, depth=depth,
                   bidirectional=bidirectional, dropout=dropout,
                   recurrent_dropout=recurrent_dropout, cell_options=cell_options)
        self.reference = REFERENCES[cell]


def _register(cell):
    def classifier(input_dim=12, classes=9, **overrides):
        return SequenceClassifier(input_dim, classes, **{"cell": cell, "units": 64, **overrides})

    def regressor(input_dim=160, outputs=2, **overrides):
        return SequenceRegressor(input_dim, outputs, **{"cell": cell, "units": 64, **overrides})

    layer = CELLS[cell].__name__
    classifier.__doc__ = f"{layer} classifier: 1 layer x 64 units, last state, softmax head."
    regressor.__doc__ = f"{layer} frame-level regressor: 1 layer x 64 units, linear head."
    register_model(classifier, name=f"{cell}_classifier", task="classes")
    register_model(regressor, name=f"{cell}_regressor", task="frames")


for _cell in CELLS:
    _register(_cell)
