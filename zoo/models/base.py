"""The base class of the zoo's sequence models."""

import warnings

import keras

from zoo.losses import check_weights
from zoo.data.sequences import PaddingWarning, check_sequences, end_padded
from zoo.models.progress import with_verbose
from zoo.validation import check_settings, check_types, settings_names


class SequenceModel(keras.Model):
    """A functional `keras.Model` over `(batch, time, input_dim)` sequences.

    Subclasses build their graph in `__init__` and hand `inputs`/`outputs` to this class
    (the keras-hub backbone pattern), so they save, load, export and fit as any functional
    model does. `fit`, `evaluate`, `predict` and eager calls on arrays validate their input
    first: wrong feature size, NaN or inf, and sequences shorter than `min_length` raise a
    ValueError that names the problem instead of failing deep inside TensorFlow.

    Args:
        inputs, outputs: the functional graph, as for `keras.Model`.
        **kwargs: `name`, `trainable`, as for `keras.Model`; anything else is a misspelled
            setting and raises a TypeError with the closest names. A setting of another
            kind than its default (a boolean given a string, a whole number given a
            fraction) raises a TypeError too (`zoo.validation.check_types`).

    Example:

    ```python
    @keras.saving.register_keras_serializable(package="my")
    class FrameLinear(SequenceModel):                  # one value per frame
        def __init__(self, input_dim=8, outputs=1, **kwargs):
            inputs = keras.Input((None, input_dim), name="features")
            y = keras.layers.Dense(outputs, name="head")(inputs)
            super().__init__(inputs=inputs, outputs=y, **kwargs)
            self._keep(input_dim=input_dim, outputs=outputs)   # written back by get_config
    ```
    """

    #: Citation of the paper the model follows, shown by `zoo.info`.
    reference = None
    min_length = 1

    def __new__(cls, *args, **kwargs):
        # Before any layer is built: each setting of the kind its default has (a boolean
        # setting given "maybe" would otherwise switch on, as any non-empty string does).
        check_types(cls.__name__, cls.__init__, args, kwargs)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        # Subclasses build their graph and pass `inputs`, `outputs` and whatever settings
        # their own signature did not take: those must be Keras's, or they were misspelled.
        passed = [k for k in kwargs if k not in ("inputs", "outputs")]
        check_settings(type(self).__name__, passed, settings_names(type(self)))
        super().__init__(*args, **kwargs)

    def _check(self, x):
        return check_sequences(x, self.input_dim, self.min_length)

    def fit(self, x=None, y=None, *args, **kwargs):
        self._check(x)
        check_weights(kwargs.get("sample_weight"))
        self._warn_of_padding(x, kwargs)
        if "validation_data" in kwargs and isinstance(kwargs["validation_data"], tuple):
            check_sequences(
                kwargs["validation_data"][0], self.input_dim, self.min_length,
                "validation inputs",
            )
        return super().fit(x, y, *args, **with_verbose(args, kwargs, 2))

    def _warn_of_padding(self, x, kwargs):
        """Once per model: a `PaddingWarning` when array inputs end in all-zero frames, no
        `sample_weight` is given and no `Masking` layer drops them. (Datasets are not read
        ahead; their padding is the pipeline's to mask.)"""
        if kwargs.get("sample_weight") is not None or getattr(self, "_padding_warned", False):
            return
        if any(isinstance(layer, keras.layers.Masking) for layer in self.layers):
            return
        count = end_padded(x)
        if count:
            self._padding_warned = True
            warnings.warn(
                f"{self.name}.fit: {count} of {len(x)} sequences end in all-zero frames and "
                "no sample_weight is given, so if those frames are padding the loss counts "
                "them. Pass sample_weight=mask (1 on real frames, 0 on padding; "
                "zoo.data.pad and the corpora's padded() return it).",
                PaddingWarning, stacklevel=3)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        self._check(x)
        check_weights(kwargs.get("sample_weight"))
        return super().evaluate(x, y, *args, **with_verbose(args, kwargs, 1))

    def predict(self, x, *args, **kwargs):
        self._check(x)
        return super().predict(x, *args, **with_verbose(args, kwargs, 1))

    def __call__(self, *args, **kwargs):
        if args:
            self._check(args[0])
        return super().__call__(*args, **kwargs)

    def _keep(self, **settings):
        """Keeps constructor settings as same-named attributes, written back by get_config."""
        self._settings = tuple(settings)
        for key, value in settings.items():
            # `outputs` is a reserved attribute of keras.Model.
            setattr(self, "num_outputs" if key == "outputs" else key, value)

    def get_config(self):
        config = {
            key: getattr(self, "num_outputs" if key == "outputs" else key)
            for key in getattr(self, "_settings", ())
        }
        return {"name": self.name, "trainable": self.trainable, **config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
