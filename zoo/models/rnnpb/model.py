"""The `RNNPB` model: the network, its frame transform's weights, its three modes.

Design notes and the choices made where the paper is silent: `zoo/models/rnnpb/__init__.py`.
"""


import types

import numpy as np
import keras
from keras import ops

from zoo.data.sequences import as_sequence_list, pad
from zoo.layers import loop
from zoo.models.progress import with_verbose
from zoo.models.recurrent import CELLS, recurrent_layer
from zoo.models.rnnpb import frames as frame_transform
from zoo.models.rnnpb import generation, pb_updates
from zoo.models.rnnpb.deploy import Deployment
from zoo.models.rnnpb.learning import Learning
from zoo.models.rnnpb.recognition import Recognition
from zoo.registry import register_model
from zoo.validation import (check_positive, check_positive_float, check_rate,
                             check_settings, settings_names)

UNROLL_MAX = pb_updates.UNROLL_MAX


@keras.saving.register_keras_serializable(package="zoo")
class RNNPB(Deployment, Learning, Recognition, keras.Model):
    """Recurrent network with parametric bias: learns, recognises and generates sequences.

    The network reads frame `t` and the sequence's PB vector and predicts frame `t + 1`.
    `fit(sequences)` learns the weights and one PB vector per sequence (the PB table);
    `recognize(new_sequences)` infers PB vectors for new sequences with the weights frozen;
    `generate(pb, initial_input, steps)` runs the network in closed loop from a PB.

    The model is built by its first `fit` (or by `build((num_sequences, None, channels))`),
    which sets the channel count and the size of the PB table.

    Args:
        units: positive int, default 100 (the paper's Table III).
        pb_dim: positive int, default 16. The paper's Table III has 2, which can be
            plotted as is; on the real sets of `benchmarks/rnnpb_datasets.py` 2 PB units
            could not hold 9-10 classes apart (JapaneseVowels: nearest-class-mean 0.341
            with 2, 0.678 with 8, 0.746 with 16; the README's RNNPB section).
        cell: a key of `zoo.models.CELLS`, default `"elman"` (the paper's network). Any zoo
            cell with PB input works: `"jordan"`, `"gru"`, `"peephole_lstm"`.
        pca_components: None (default) or an int: reduce the standardised channels to this
            many principal components, fit on the training frames (the paper fed PCA-reduced
            data to its network). Predictions are mapped back to channels.
        compress: `"auto"` (default), None, or a positive scale `s`: frames pass through
            `asinh(x / s)` before standardising (and `sinh` back), which is linear below
            `s` and logarithmic above. It matters when the behaviours differ in amplitude
            by orders of magnitude (standing against running): without it the loudest
            sequences dominate the error and the quiet ones share one PB. `"auto"` decides
            at the first `fit` (`frames.choose_compress`): when the training sequences'
            amplitudes spread by 10x or more (90th over 10th percentile), `s` is the
            amplitude of the quiet tenth; otherwise no compression. The value chosen
            replaces `"auto"` in the config.
        scaling: `"robust"` (default): each channel is centred on its training median and
            divided by its interquartile range / 1.349, so bursts and outliers do not set
            the scale of the quiet majority of frames; `"standard"`: mean and standard
            deviation.
        pb_learning_rate: the PB's own Adagrad rate `gamma` (eqs. 6-7), default 0.05.
        pb_epsilon: smoothing term of eqs. 6-7, default 1e-8.
        dropout: fraction of input units dropped while learning, default 0.2. Dropping
            input frames makes the network lean on the PB to predict, so the PB carries
            what distinguishes the sequences instead of the recurrent state inferring it
            from the frames seen so far (JapaneseVowels with 16 PB units: nearest-class-
            mean 0.746 without, 0.959 with 0.2).
        recurrent_dropout: fraction of the fed-back state dropped while learning.
        sequence_labels: optional labels of the training sequences, one per PB table row,
            kept for analysis (nearest-class-mean recognition); learning never reads them.
            Set by `fit(..., labels=...)`.
        name: default `"rnnpb"`.

    Call arguments:
        inputs: a tuple `(frames, pb)`: frames `(batch, time, channels)` and PB vectors
            `(batch, pb_dim)`. Returns the predicted next frames, `(batch, time, channels)`.

    Example:

    ```python
    model = zoo.get("rnnpb")               # 100 Elman units, 16 PB units
    model.fit(train_sequences, labels=train_labels)   # until the error converges
    pbs, errors = model.recognize(test_sequences)     # starts and steps from the table
    frames = model.generate(pbs[0], initial_input=test_sequences[0][:10], steps=50)
    ```

    Reference:
        J. Tani, M. Ito, "Self-organization of behavioral primitives as multiple attractor
        dynamics: a robot experiment", IEEE Trans. SMC-A 33(4), 2003. J. Zhong, C. Yang,
        "A compositionality assembled model for learning and recognizing emotion from bodily
        expression" (Algorithms 1-2, Table III).
    """

    reference = (
        "J. Tani, M. Ito, IEEE Trans. SMC-A 33(4), 2003; J. Zhong, C. Yang, RNNPB with "
        "Adagrad learning and Adadelta recognition (Algorithms 1-2, Table III)."
    )

    def __init__(
        self,
        units=100,
        pb_dim=16,
        cell="elman",
        pca_components=None,
        compress="auto",
        scaling="robust",
        pb_learning_rate=0.05,
        pb_epsilon=1e-8,
        dropout=0.2,
        recurrent_dropout=0.0,
        sequence_labels=None,
        name="rnnpb",
        **kwargs,
    ):
        check_settings("RNNPB", list(kwargs), settings_names(RNNPB))
        super().__init__(name=name, **kwargs)
        check_positive(units=units, pb_dim=pb_dim)
        if isinstance(compress, str) and compress != "auto":
            raise ValueError(f"`compress` must be 'auto', None or a positive scale. "
                             f"Received: compress={compress!r}")
        if compress is not None and compress != "auto":
            check_positive_float(compress=compress)
        if scaling not in ("robust", "standard"):
            raise ValueError(f"`scaling` must be 'robust' or 'standard'. Received: {scaling!r}")
        check_positive_float(pb_learning_rate=pb_learning_rate, pb_epsilon=pb_epsilon)
        check_rate("dropout", dropout)
        check_rate("recurrent_dropout", recurrent_dropout)
        if pca_components is not None:
            check_positive(pca_components=pca_components)
        if cell not in CELLS or cell == "lstm":
            usable = [c for c in CELLS if c != "lstm"]
            raise ValueError(
                f"`cell` must be a zoo cell with PB input: {', '.join(usable)}. "
                f"Received: cell={cell!r}"
            )
        self.units = units
        self.pb_dim = pb_dim
        self.cell = cell
        self.pca_components = pca_components
        self.compress = compress if compress in (None, "auto") else float(compress)
        self.scaling = scaling
        self.pb_learning_rate = float(pb_learning_rate)
        self.pb_epsilon = float(pb_epsilon)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.sequence_labels = None if sequence_labels is None else list(sequence_labels)
        # Recognition and generation compile whole updates with XLA; a separately
        # compiled loop inside them would cut the gradient at the XLA boundary.
        self.rnn = recurrent_layer(cell, units, pb_dim=pb_dim, return_sequences=True,
                                   dropout=dropout, recurrent_dropout=recurrent_dropout,
                                   jit_inference=False, name=f"{cell}_pb")
        self.readout = None
        self.channels = None
        # Not a dict attribute: Keras and TF would track it, and SavedModel export walks
        # tracked objects (and refuses tuple keys).
        self._compiled_fns = types.SimpleNamespace(cache={})
        self._loss_tracker = keras.metrics.Mean(name="loss")

    # -- state -----------------------------------------------------------------------
    def build(self, input_shape):
        """Creates the network, the frame transform and a PB table of `input_shape[0]` rows."""
        if len(input_shape) != 3 or input_shape[0] is None or input_shape[-1] is None:
            raise ValueError(
                "Build an RNNPB with (num_sequences, time, channels), the size of its PB "
                f"table and its frames. Received: {input_shape}"
            )
        num_sequences, channels = int(input_shape[0]), int(input_shape[-1])
        features = self.pca_components or channels
        if features > channels:
            raise ValueError(
                f"`pca_components`={features} exceeds the {channels} channels of the data."
            )
        self.channels = channels
        self.features = features
        self.frame_mean = self.add_weight(shape=(channels,), initializer="zeros",
                                          trainable=False, name="frame_mean")
        self.frame_scale = self.add_weight(shape=(channels,), initializer="ones",
                                           trainable=False, name="frame_scale")
        self.components = self.add_weight(
            shape=(channels, features),
            initializer=keras.initializers.Identity() if features == channels else "zeros",
            trainable=False, name="components",
        )
        # The PB table is learnt by its own rule (eqs. 6-7), not by the weights' optimizer.
        # Under a `tf.distribute` strategy every replica assigns the same gathered rows;
        # the first replica's value is the one kept.
        self.pb_table = self.add_weight(shape=(num_sequences, self.pb_dim), initializer="zeros",
                                        trainable=False, name="pb_table",
                                        aggregation="only_first_replica")
        self.pb_accumulator = self.add_weight(shape=(num_sequences, self.pb_dim),
                                              initializer="zeros", trainable=False,
                                              name="pb_accumulator",
                                              aggregation="only_first_replica")
        self.epochs_trained = self.add_weight(shape=(), initializer="zeros", dtype="int32",
                                              trainable=False, name="epochs_trained")
        self.rnn.build((None, None, features))
        self.readout = keras.layers.Dense(features, name="readout")
        self.readout.build((None, None, self.units))

    @property
    def num_sequences(self):
        """Rows of the PB table (training sequences), None before the model is built."""
        return int(self.pb_table.shape[0]) if self.built else None

    # -- the frame transform (frames.py) -------------------------------------------------
    def _transform(self):
        return dict(mean=self.frame_mean, scale=self.frame_scale, components=self.components,
                    compress=None if self.compress == "auto" else self.compress)

    def to_features(self, frames):
        """Compress, standardise and PCA-project `(..., channels)` frames, as configured."""
        return frame_transform.to_features(ops.convert_to_tensor(frames, "float32"),
                                           **self._transform())

    def to_channels(self, features):
        """Inverse of `to_features` (exact without PCA)."""
        return frame_transform.to_channels(features, **self._transform())

    def fit_frame_transform(self, sequences):
        """Sets the transform's statistics from training sequences (`fit` does, once).

        Resolves `compress="auto"` first (`frames.choose_compress`)."""
        if self.compress == "auto":
            chosen = frame_transform.choose_compress(sequences)
            self.compress = None if chosen is None else float(chosen)
        mean, scale, components = frame_transform.fit_statistics(
            sequences, self.compress, self.pca_components, self.scaling)
        self.frame_mean.assign(mean)
        self.frame_scale.assign(scale)
        if components is not None:
            self.components.assign(components)

    def features_of(self, sequences, name="sequences"):
        """`(z, mask)`: sequences checked, transformed to features and end-padded."""
        sequences = as_sequence_list(sequences, self.channels, name=name)
        return pad([ops.convert_to_numpy(self.to_features(s)) for s in sequences])

    # -- the network ------------------------------------------------------------------
    def predict_features(self, z, pb, training=False):
        """Next-frame predictions in feature space from `z` `(batch, time, features)`."""
        return self.readout(self.rnn(z, pb=pb, training=training))

    def predict(self, *args, **kwargs):
        self._require_built("predict")
        return super().predict(*args, **with_verbose(args[1:], kwargs, 1))

    def call(self, inputs, training=False):
        frames, pb = self._split_inputs(inputs)
        return self.to_channels(self.predict_features(self.to_features(frames), pb, training))

    def _split_inputs(self, inputs):
        if isinstance(inputs, dict):
            inputs = (inputs.get("frames"), inputs.get("pb"))
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                "An RNNPB is called on `(frames, pb)`: frames (batch, time, channels) and "
                f"pb (batch, {self.pb_dim}). Received: {type(inputs).__name__}"
            )
        frames, pb = inputs
        if frames.shape[-1] != self.channels:
            raise ValueError(
                f"frames have {frames.shape[-1]} channels; the model was built for "
                f"{self.channels}. Received shape {tuple(frames.shape)}."
            )
        return frames, self.check_pb(pb)

    def check_pb(self, pb, batch=None):
        """`pb` if it is `(batch, pb_dim)` (and finite, for arrays); a ValueError otherwise."""
        shape = tuple(pb.shape)
        if len(shape) != 2 or shape[-1] != self.pb_dim or (batch is not None and shape[0] != batch):
            want = f"({batch if batch is not None else 'batch'}, {self.pb_dim})"
            raise ValueError(f"`pb` must have shape {want}. Received shape {shape}.")
        if isinstance(pb, np.ndarray) and not np.isfinite(pb).all():
            raise ValueError("`pb` contains NaN or inf.")
        return pb

    def sequence_errors(self, z, mask, pb, training=False, unroll=False):
        """Eq. 2 per sequence: mean squared one-step-ahead error over valid frames.

        With `unroll`, a window of at most `UNROLL_MAX` frames runs as straight-line
        code (`zoo.layers.loop.unrolled`), which compiled recognition needs.
        """
        z, mask = ops.convert_to_tensor(z), ops.convert_to_tensor(mask)
        if unroll and z.shape[1] is not None and z.shape[1] - 1 <= UNROLL_MAX:
            cell = self.rnn.cell
            outputs, _ = loop.unrolled(cell, z[:, :-1], cell.input_bias(pb))
            prediction = self.readout(outputs)
        else:
            prediction = self.predict_features(z[:, :-1], pb, training)
        weight = mask[:, 1:]
        squared = ops.mean(ops.square(prediction - z[:, 1:]), axis=-1) * weight
        return ops.sum(squared, axis=1) / ops.maximum(ops.sum(weight, axis=1), 1.0)

    def compiled_function(self, key, make):
        """The function `make()` built once per model and `key` (compiled updates, loops)."""
        cache = self._compiled_fns.cache
        if key not in cache:
            cache[key] = make()
        return cache[key]

    def _require_built(self, what):
        if not self.built:
            raise ValueError(f"`{what}` needs a trained RNNPB: call `fit` first (or load one).")

    # -- generation mode ----------------------------------------------------------------
    def generate(self, pb, initial_input, steps):
        """Generation mode: runs the network in closed loop from a PB (eq. 11).

        The network first reads `initial_input` (teacher-forced), then feeds each
        predicted frame back as the next input (`zoo.layers.loop.closed_loop`).

        Args:
            pb: `(pb_dim,)` or `(batch, pb_dim)`.
            initial_input: one frame `(channels,)`, a primer `(time, channels)`, or a
                batch `(batch, time, channels)`.
            steps: positive int, frames to generate.

        Returns:
            The generated frames after the primer, `(steps, channels)`, or
            `(batch, steps, channels)` for batched input.
        """
        self._require_built("generate")
        return generation.generate(self, pb, initial_input, steps)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "units": self.units,
            "pb_dim": self.pb_dim,
            "cell": self.cell,
            "pca_components": self.pca_components,
            "compress": self.compress,
            "scaling": self.scaling,
            "pb_learning_rate": self.pb_learning_rate,
            "pb_epsilon": self.pb_epsilon,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "sequence_labels": self.sequence_labels,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@register_model(task="pb")
def rnnpb(**overrides):
    """RNNPB of Zhong & Yang: Elman net, 100 hidden (Table III), 16 PB units.

    Learns with Adagrad, recognises with Adadelta (lambda 0.9), generates in closed loop.
    Built by its first `fit`, which sets the channel count and the PB table size. The
    defaults are for new data (issue 18: 16 PB units, input dropout 0.2, robust scaling,
    automatic compression, epochs and recognition steps); the paper's Table III network
    is `zoo.get("rnnpb", pb_dim=2, dropout=0.0)`.
    """
    return RNNPB(**{"units": 100, "pb_dim": 16, "cell": "elman", **overrides})
