"""Recurrent network with parametric bias (RNNPB): learning, recognition and generation.

An RNNPB (Tani & Ito 2003; Zhong & Yang, seed `000_*`) is a recurrent net trained to
predict the next frame of a sequence, with a few extra input units, the parametric bias
(PB), that hold one constant vector per sequence. The PB vectors are learnt with the
weights; similar sequences end up with nearby PB vectors, so the same network

- learns a set of sequences and a PB table (`fit`, learning mode, paper eqs. 2-7),
- recognises a new sequence by inferring its PB with the weights frozen (`recognize`,
  eqs. 8-10; `recognize_stream` and `PBStream` for a live stream, Algorithm 2),
- generates a sequence from a PB in closed loop (`generate`, eq. 11).

Choices where the paper is silent or does not carry over, and why:

- Frames are standardised per channel with the training data's statistics (and optionally
  reduced by PCA, as the paper did), and the loss is eq. 2 averaged over a sequence's
  frames and channels instead of summed. Thresholds and learning rates then do not depend
  on sequence length or units. The paper's rates (2e-6 and 1e-6) belong to its summed
  loss and raw joint angles; our defaults were tuned on BasicMotions and the toy tests.
- Each sequence's PB gets the gradient of that sequence's own loss, not of the batch mean,
  so how fast a PB moves does not depend on the batch size.
- Eqs. 6-7 divide by the root of the accumulated squared gradient twice, which reads as a
  typesetting slip; we implement them as Adagrad on the PB with its own rate `gamma`
  (`pb_learning_rate`), written out in `_pb_adagrad`.
- Recognition starts every PB at the mean of the training PB table (the centre of the
  learnt space) and runs Adadelta (eqs. 8-10, lambda 0.9) on all sequences at once; a
  stream warm-starts each frame's PB, and the Adadelta averages, from the previous frame.
  `recognize(..., starts=k)` also starts from k - 1 spread-out rows of the table and keeps
  the PB with the lowest error: on BasicMotions one start found 0.875 of the test
  sequences' classes, eight found 0.9 (seed 0; `benchmarks/rnnpb_motion.py`).
- Options the paper does not have, for real sensor data: `compress` (asinh of the frames,
  when behaviours differ in amplitude by orders of magnitude) and `fit(window=...)`
  (learn on random windows, so the PB describes any stretch of its sequence).
- The readout is linear: frames are standardised, so a squashing output would clip them.

The loops in recognition and generation are TensorFlow (`tf.while_loop` compiled with XLA)
because their speed is the point; the model maths is Keras.
"""

import numpy as np
import keras
import tensorflow as tf
from keras import ops

from zoo.models.recurrent import CELLS, recurrent_layer
from zoo.registry import register_model
from zoo.validation import (check_positive, check_positive_float, check_rate,
                             check_settings, settings_names)

#: Longest sequence whose recognition update is compiled as straight-line code.
UNROLL_MAX = 128


def as_sequence_list(sequences, channels=None, min_length=2, name="sequences"):
    """A list of float32 `(time, channels)` arrays from a 3-D array or a list of 2-D ones.

    Raises:
        ValueError: empty input, wrong rank, a channel count other than `channels`,
            sequences shorter than `min_length` frames, NaN or inf.
    """
    if hasattr(sequences, "sequences") and hasattr(sequences, "labels"):
        sequences = sequences.sequences  # zoo.data.LabelledSequences
    if isinstance(sequences, np.ndarray) or hasattr(sequences, "numpy"):
        array = np.asarray(sequences)
        if array.ndim == 2:
            raise ValueError(
                f"{name} must be a list of (time, channels) arrays or one (batch, time, "
                f"channels) array. Received one array of shape {array.shape}; wrap a "
                "single sequence as `[sequence]`."
            )
        if array.ndim != 3:
            raise ValueError(
                f"{name} must be shaped (batch, time, channels). Received shape {array.shape}."
            )
        sequences = list(array)
    sequences = [np.asarray(s, dtype="float32") for s in sequences]
    if not sequences:
        raise ValueError(f"{name} is empty: pass at least one sequence.")
    for i, seq in enumerate(sequences):
        if seq.ndim != 2:
            raise ValueError(f"{name}[{i}] must be (time, channels). Received shape {seq.shape}.")
        if channels is not None and seq.shape[1] != channels:
            raise ValueError(
                f"{name}[{i}] has {seq.shape[1]} channels; the model was built for "
                f"{channels}. Received shape {seq.shape}."
            )
        if len(seq) < min_length:
            raise ValueError(
                f"{name}[{i}] has {len(seq)} frames; at least {min_length} are needed "
                "(the network learns to predict each next frame)."
            )
        if not np.isfinite(seq).all():
            t, c = np.argwhere(~np.isfinite(seq))[0]
            raise ValueError(
                f"{name}[{i}] contains NaN or inf (first at frame {t}, channel {c}). "
                "Clean or interpolate the frames first."
            )
    return sequences


def _pad(sequences, length=None):
    """`(x, mask)` end-padded to `length` (default: the longest)."""
    length = max(len(s) for s in sequences) if length is None else length
    x = np.zeros((len(sequences), length, sequences[0].shape[1]), dtype="float32")
    mask = np.zeros((len(sequences), length), dtype="float32")
    for i, seq in enumerate(sequences):
        x[i, : len(seq)] = seq[:length]
        mask[i, : len(seq)] = 1.0
    return x, mask


_INT32 = {}


def _int32(value):
    """A cached int32 scalar tensor: creating one per call costs as much as a small update."""
    if value not in _INT32:
        _INT32[value] = tf.constant(value, tf.int32)
    return _INT32[value]


def _random_window(window, length, seed):
    """A `tf.data` map drawing one random `window`-frame crop of a padded sequence."""
    if not isinstance(window, int) or window < 2:
        raise ValueError(f"`window` must be an int >= 2. Received: window={window!r}")
    window = min(window, length)

    def crop(z, mask, index):
        frames = tf.cast(tf.reduce_sum(mask), tf.int32)
        last_start = tf.maximum(frames - window, 0)
        start = tf.random.uniform((), 0, last_start + 1, dtype=tf.int32, seed=seed)
        return z[start : start + window], mask[start : start + window], index

    return crop


def _pb_adagrad(pb, accumulator, grad, rate, epsilon):
    """Eqs. 6-7: `G += g^2; pb -= rate * g / sqrt(G + eps)`. Returns `(pb, G)`."""
    accumulator = accumulator + grad * grad
    return pb - rate * grad / ops.sqrt(accumulator + epsilon), accumulator


def _adadelta(pb, mean_square_grad, mean_square_delta, grad, rho, epsilon, rate):
    """Eqs. 8-10 (Zeiler's Adadelta, lambda = `rho`). Returns the three new tensors."""
    mean_square_grad = rho * mean_square_grad + (1.0 - rho) * grad * grad
    delta = -ops.sqrt(mean_square_delta + epsilon) / ops.sqrt(mean_square_grad + epsilon) * grad
    mean_square_delta = rho * mean_square_delta + (1.0 - rho) * delta * delta
    return pb + rate * delta, mean_square_grad, mean_square_delta


@keras.saving.register_keras_serializable(package="zoo")
class RNNPB(keras.Model):
    """Recurrent network with parametric bias: learns, recognises and generates sequences.

    The network reads frame `t` and the sequence's PB vector and predicts frame `t + 1`.
    `fit(sequences)` learns the weights and one PB vector per sequence (the PB table);
    `recognize(new_sequences)` infers PB vectors for new sequences with the weights frozen;
    `generate(pb, initial_input, steps)` runs the network in closed loop from a PB.

    The model is built by its first `fit` (or by `build((num_sequences, None, channels))`),
    which sets the channel count and the size of the PB table.

    Args:
        units: positive int, default 100 (the paper's Table III).
        pb_dim: positive int, default 2 (Table III).
        cell: a key of `zoo.models.CELLS`, default `"elman"` (the paper's network). Any zoo
            cell with PB input works: `"jordan"`, `"gru"`, `"peephole_lstm"`.
        pca_components: None (default) or an int: reduce the standardised channels to this
            many principal components, fit on the training frames (the paper fed PCA-reduced
            data to its network). Predictions are mapped back to channels.
        compress: None (default) or a positive scale `s`: frames pass through
            `asinh(x / s)` before standardising (and `sinh` back), which is linear below
            `s` and logarithmic above. Use it when the behaviours differ in amplitude by
            orders of magnitude (standing against running): without it the loudest
            sequences dominate the error and the quiet ones share one PB.
        pb_learning_rate: the PB's own Adagrad rate `gamma` (eqs. 6-7), default 0.05.
        pb_epsilon: smoothing term of eqs. 6-7, default 1e-8.
        dropout: fraction of input units dropped while learning, default 0. Dropping
            input frames makes the network lean on the PB to predict, which helps the PB
            carry what distinguishes the sequences (see `zoo.motion`).
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
    model = zoo.get("rnnpb", units=100, pb_dim=2)
    model.compile()                        # Adagrad for the weights (the paper's choice)
    model.fit(train_sequences, labels=train_labels, epochs=300)
    pbs, errors = model.recognize(test_sequences, steps=300)
    frames = model.generate(pbs[0], initial_input=test_sequences[0][:10], steps=50)
    ```

    Reference:
        J. Tani, M. Ito, "Self-organization of behavioral primitives as multiple attractor
        dynamics: a robot experiment", IEEE Trans. SMC-A 33(4), 2003. J. Zhong, L. Yang,
        "Learning and recognising emotions from bodily expression with an RNNPB", seed
        `000_*` (Algorithms 1-2, Table III).
    """

    reference = (
        "J. Tani, M. Ito, IEEE Trans. SMC-A 33(4), 2003; J. Zhong, L. Yang, RNNPB with "
        "Adagrad learning and Adadelta recognition (seed 000_*, Algorithms 1-2, Table III)."
    )

    def __init__(
        self,
        units=100,
        pb_dim=2,
        cell="elman",
        pca_components=None,
        compress=None,
        pb_learning_rate=0.05,
        pb_epsilon=1e-8,
        dropout=0.0,
        recurrent_dropout=0.0,
        sequence_labels=None,
        name="rnnpb",
        **kwargs,
    ):
        check_settings("RNNPB", list(kwargs), settings_names(RNNPB))
        super().__init__(name=name, **kwargs)
        check_positive(units=units, pb_dim=pb_dim)
        if compress is not None:
            check_positive_float(compress=compress)
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
        self.compress = None if compress is None else float(compress)
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
        self._compiled_fns = {}
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
        self.pb_table = self.add_weight(shape=(num_sequences, self.pb_dim), initializer="zeros",
                                        trainable=False, name="pb_table")
        self.pb_accumulator = self.add_weight(shape=(num_sequences, self.pb_dim),
                                              initializer="zeros", trainable=False,
                                              name="pb_accumulator")
        self.epochs_trained = self.add_weight(shape=(), initializer="zeros", dtype="int64",
                                              trainable=False, name="epochs_trained")
        self.rnn.build((None, None, features))
        self.readout = keras.layers.Dense(features, name="readout")
        self.readout.build((None, None, self.units))

    @property
    def num_sequences(self):
        """Rows of the PB table (training sequences), None before the model is built."""
        return int(self.pb_table.shape[0]) if self.built else None

    # -- transforms between channels and the network's features ----------------------
    def _compress(self, frames):
        return frames if self.compress is None else ops.arcsinh(frames / self.compress)

    def to_features(self, frames):
        """Compress, standardise and PCA-project `(..., channels)` frames, as configured."""
        frames = self._compress(ops.convert_to_tensor(frames, "float32"))
        return ops.matmul((frames - self.frame_mean) / self.frame_scale, self.components)

    def to_channels(self, features):
        """Inverse of `to_features` (exact without PCA)."""
        frames = ops.matmul(features, ops.transpose(self.components)) * self.frame_scale + self.frame_mean
        return frames if self.compress is None else ops.sinh(frames) * self.compress

    def _fit_transform(self, sequences):
        frames = np.asarray(self._compress(np.concatenate(sequences, axis=0))).astype("float64")
        mean = frames.mean(axis=0)
        scale = frames.std(axis=0)
        scale = np.where(scale > 1e-8, scale, 1.0)
        self.frame_mean.assign(mean.astype("float32"))
        self.frame_scale.assign(scale.astype("float32"))
        if self.pca_components:
            z = (frames - mean) / scale
            _, _, vt = np.linalg.svd(z - z.mean(axis=0), full_matrices=False)
            self.components.assign(vt[: self.pca_components].T.astype("float32"))

    # -- the network ------------------------------------------------------------------
    def predict_features(self, z, pb, training=False):
        """Next-frame predictions in feature space from `z` `(batch, time, features)`."""
        return self.readout(self.rnn(z, pb=pb, training=training))

    def predict(self, *args, **kwargs):
        self._require_built("predict")
        return super().predict(*args, **kwargs)

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
        return frames, self._check_pb(pb)

    def _check_pb(self, pb, batch=None):
        shape = tuple(pb.shape)
        if len(shape) != 2 or shape[-1] != self.pb_dim or (batch is not None and shape[0] != batch):
            want = f"({batch if batch is not None else 'batch'}, {self.pb_dim})"
            raise ValueError(f"`pb` must have shape {want}. Received shape {shape}.")
        if isinstance(pb, np.ndarray) and not np.isfinite(pb).all():
            raise ValueError("`pb` contains NaN or inf.")
        return pb

    def _predict_unrolled(self, z, pb):
        """`predict_features` as straight-line code over a static, short time axis.

        Used inside the compiled recognition updates, which loop over updates: XLA
        cannot differentiate a time `while_loop` nested in that loop, and it optimises a
        short unrolled window well.
        """
        cell = self.rnn.cell
        bias = cell.input_bias(pb)
        states = cell.get_initial_state(ops.shape(z)[0])
        outputs = []
        for t in range(z.shape[1]):
            output, states = cell.step(z[:, t], states, bias)
            outputs.append(output)
        return self.readout(ops.stack(outputs, axis=1))

    def sequence_errors(self, z, mask, pb, training=False, unroll=False):
        """Eq. 2 per sequence: mean squared one-step-ahead error over valid frames."""
        if unroll and z.shape[1] is not None and z.shape[1] - 1 <= UNROLL_MAX:
            prediction = self._predict_unrolled(z[:, :-1], pb)
        else:
            prediction = self.predict_features(z[:, :-1], pb, training)
        weight = mask[:, 1:]
        squared = ops.mean(ops.square(prediction - z[:, 1:]), axis=-1) * weight
        return ops.sum(squared, axis=1) / ops.maximum(ops.sum(weight, axis=1), 1.0)

    # -- learning mode ----------------------------------------------------------------
    def compile(self, optimizer=None, **kwargs):
        """Sets the weights' optimizer: default Adagrad at 0.05 (the paper's method, eqs. 3-5).

        Any Keras optimizer works. The PB table follows its own rule (eqs. 6-7) at
        `pb_learning_rate`. `loss` is fixed (eq. 2) and must not be passed.
        """
        if "loss" in kwargs:
            raise ValueError("An RNNPB learns with its own loss (eq. 2); do not pass `loss`.")
        if optimizer is None:
            optimizer = keras.optimizers.Adagrad(learning_rate=0.05)
        # XLA cannot compile the gradient of the recurrent loop inside Keras's train
        # function ("TensorList crossing the XLA/TF boundary").
        kwargs.setdefault("jit_compile", False)
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        """Restores the optimizer when a `.keras` file is loaded (the loss is fixed)."""
        from keras.src.saving import serialization_lib

        config = serialization_lib.deserialize_keras_object(config)
        self.compile(optimizer=config.get("optimizer"),
                     jit_compile=config.get("jit_compile", False),
                     steps_per_execution=config.get("steps_per_execution", 1))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    @property
    def metrics(self):
        return [self._loss_tracker]

    def _learn(self, z, mask, ids):
        """One update of the weights and of the PB rows `ids`; returns per-sequence errors."""
        pb = ops.take(self.pb_table, ids, axis=0)
        weights = self.trainable_weights
        with tf.GradientTape() as tape:
            tape.watch(pb)
            errors = self.sequence_errors(z, mask, pb, training=True)
            loss = ops.mean(errors)
        grads = tape.gradient(loss, [pb] + weights)
        self.optimizer.apply(grads[1:], weights)
        # Each PB follows the gradient of its own sequence's error, not the batch mean.
        pb_grad = grads[0] * ops.cast(ops.shape(ids)[0], pb.dtype)
        accumulator = ops.take(self.pb_accumulator, ids, axis=0)
        pb, accumulator = _pb_adagrad(pb, accumulator, pb_grad, self.pb_learning_rate,
                                      self.pb_epsilon)
        rows = ops.expand_dims(ids, -1)
        self.pb_table.assign(tf.tensor_scatter_nd_update(self.pb_table.value, rows, pb))
        self.pb_accumulator.assign(
            tf.tensor_scatter_nd_update(self.pb_accumulator.value, rows, accumulator))
        return errors

    def train_step(self, data):
        z, mask, ids = data
        errors = self._learn(z, mask, ids)
        self._loss_tracker.update_state(errors, sample_weight=None)
        return {"loss": self._loss_tracker.result()}

    def test_step(self, data):
        z, mask, ids = data
        errors = self.sequence_errors(z, mask, ops.take(self.pb_table, ids, axis=0))
        self._loss_tracker.update_state(errors)
        return {"loss": self._loss_tracker.result()}

    def fit(
        self,
        x,
        labels=None,
        epochs=1,
        batch_size=32,
        shuffle=True,
        callbacks=None,
        verbose="auto",
        window=None,
        until=None,
        max_iterations=100,
        seed=None,
    ):
        """Learning mode: learns the weights and one PB vector per sequence in `x`.

        Args:
            x: training sequences: a list of `(time_i, channels)` arrays (lengths may
                differ; padding is masked out of the loss), a `(n, time, channels)` array,
                or `zoo.data.LabelledSequences`.
            labels: optional, one label per sequence, kept as `sequence_labels` for
                analysis; learning does not read them.
            epochs: passes over the sequences.
            batch_size: sequences per update, default 32 (as in Keras).
            shuffle: shuffle the sequences every epoch.
            callbacks: Keras callbacks; `History` is returned.
            verbose: as in `keras.Model.fit`.
            window: None (default) to learn on whole sequences; an int >= 2 to learn,
                at every update, on one randomly placed window of that many frames of
                each sequence, with that sequence's PB. The PB then has to explain every
                part of its sequence, not one run from its start, which is what streaming
                recognition (windows at any phase) and recognition of unseen
                sequences need.
            until: None (default) for minibatch learning; a float switches to the
                paper's Algorithm 1: each epoch visits the sequences one at a time and
                repeats updates on a sequence until its error (eq. 2, per frame and
                channel) is below `until` or `max_iterations` updates were made.
            max_iterations: cap of Algorithm 1's inner loop, default 100.
            seed: shuffling seed of Algorithm 1.

        Returns:
            A `keras.callbacks.History`.
        """
        if labels is None and hasattr(x, "labels") and hasattr(x, "classes"):
            labels = [x.classes[i] for i in x.labels]
        sequences = as_sequence_list(x, self.channels, name="x")
        if not self.built:
            self.build((len(sequences), None, sequences[0].shape[1]))
        elif len(sequences) != self.num_sequences:
            raise ValueError(
                f"This RNNPB holds a PB table for {self.num_sequences} training sequences; "
                f"received {len(sequences)}. Learning continues on the same sequences; "
                "use `recognize` to infer PB vectors for new ones."
            )
        if labels is not None:
            labels = [v.item() if isinstance(v, np.generic) else v for v in labels]
            if len(labels) != len(sequences):
                raise ValueError(
                    f"`labels` has {len(labels)} entries for {len(sequences)} sequences.")
            self.sequence_labels = labels
        if int(self.epochs_trained.numpy()) == 0:
            self._fit_transform(sequences)
        if not self.compiled:
            self.compile()
        z, mask = _pad([np.asarray(self.to_features(s)) for s in sequences])
        ids = np.arange(len(sequences), dtype="int32")
        if until is None:
            check_positive(batch_size=batch_size)
            data = tf.data.Dataset.from_tensor_slices((z, mask, ids))
            if shuffle:
                data = data.shuffle(len(ids), reshuffle_each_iteration=True, seed=seed)
            if window is not None:
                data = data.map(_random_window(window, z.shape[1], seed))
            history = super().fit(data.batch(batch_size), epochs=epochs, callbacks=callbacks,
                                  verbose=verbose, shuffle=False)
        else:
            history = self._fit_algorithm_1(z, mask, epochs, until, max_iterations, callbacks,
                                            verbose, seed)
        self.epochs_trained.assign(self.epochs_trained + len(history.epoch))
        return history

    def _fit_algorithm_1(self, z, mask, epochs, threshold, max_iterations, callbacks, verbose,
                         seed):
        check_positive(max_iterations=max_iterations)
        learn = self._compiled("learn", lambda: tf.function(self._learn, reduce_retracing=True))
        callbacks = keras.callbacks.CallbackList(
            callbacks, add_history=True, add_progbar=verbose not in (0, "auto") and bool(verbose),
            model=self, verbose=verbose, epochs=epochs, steps=len(z),
        )
        rng = np.random.default_rng(seed)
        self.stop_training = False
        callbacks.on_train_begin()
        for epoch in range(epochs):
            callbacks.on_epoch_begin(epoch)
            errors, iterations = [], []
            for step, i in enumerate(rng.permutation(len(z))):
                callbacks.on_train_batch_begin(step)
                zi, mi, ids = z[i : i + 1], mask[i : i + 1], np.array([i], dtype="int32")
                for n in range(1, max_iterations + 1):
                    error = float(learn(zi, mi, ids)[0])
                    if error < threshold:
                        break
                errors.append(error)
                iterations.append(n)
                callbacks.on_train_batch_end(step, {"loss": error})
            logs = {"loss": float(np.mean(errors)), "iterations": float(np.mean(iterations))}
            callbacks.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        callbacks.on_train_end(logs)
        return self.history

    def _compiled(self, key, make):
        if key not in self._compiled_fns:
            self._compiled_fns[key] = make()
        return self._compiled_fns[key]

    def _require_built(self, what):
        if not self.built:
            raise ValueError(f"`{what}` needs a trained RNNPB: call `fit` first (or load one).")

    def features_of(self, sequences, name="sequences"):
        """`(z, mask)`: sequences checked, transformed to features and end-padded."""
        sequences = as_sequence_list(sequences, self.channels, name=name)
        return _pad([np.asarray(self.to_features(s)) for s in sequences])

    # -- recognition mode -------------------------------------------------------------
    def initial_pb(self, count):
        """Where recognition starts: the mean of the PB table, `(count, pb_dim)`."""
        centre = ops.mean(self.pb_table, axis=0, keepdims=True)
        return np.repeat(np.asarray(centre), count, axis=0)

    def _adadelta_step(self, z, mask, pb, msg, msd, rho, epsilon, rate, unroll=False):
        """One Adadelta update of `pb` on `(z, mask)`; returns the new state and the errors."""
        with tf.GradientTape() as tape:
            tape.watch(pb)
            error = self.sequence_errors(z, mask, pb, unroll=unroll)
            total = ops.sum(error)  # each PB follows its own sequence's error
        grad = tape.gradient(total, pb)
        pb, msg, msd = _adadelta(pb, msg, msd, grad, rho, epsilon, rate)
        return pb, msg, msd, error

    def _adadelta_steps(self, z, mask, pb, msg, msd, rho, epsilon, rate, count, size):
        """`count <= size` updates in one compiled call, the window unrolled."""
        errors = tf.TensorArray(z.dtype, size=size)

        def body(i, pb, msg, msd, errors):
            pb, msg, msd, error = self._adadelta_step(z, mask, pb, msg, msd, rho, epsilon,
                                                      rate, unroll=True)
            return i + 1, pb, msg, msd, errors.write(i, error)

        _, pb, msg, msd, errors = tf.while_loop(
            lambda i, *_: i < count, body, (tf.constant(0), pb, msg, msd, errors),
            maximum_iterations=size,
        )
        return pb, msg, msd, errors.stack()

    def _adadelta(self, z, mask, state, settings, count, size):
        """Runs `count` updates; returns `(state, errors (count, batch))`.

        Windows up to `UNROLL_MAX` frames run all updates in one XLA call with the time
        loop unrolled (measured 0.24 ms an update on a 30-frame window, against about
        1 ms for a call per update: Python's dispatch costs 0.2-0.3 ms a call). Longer
        sequences run one compiled update per call, the time loop a `while_loop` (XLA
        cannot differentiate a `while_loop` nested in another).
        """
        if z.shape[1] - 1 <= UNROLL_MAX:
            fn = self._compiled(("updates", size), lambda: tf.function(
                lambda *args: self._adadelta_steps(*args, size=size), jit_compile=True, autograph=False))
            *state, errors = fn(z, mask, *state, *settings, _int32(count))
            return state, np.asarray(errors)[:count]
        fn = self._compiled("update", lambda: tf.function(self._adadelta_step, jit_compile=True, autograph=False))
        errors = []
        for _ in range(count):
            *state, error = fn(z, mask, *state, *settings)
            errors.append(error)
        return state, np.stack([np.asarray(e) for e in errors])

    def recognize(self, sequences, steps=300, rho=0.9, epsilon=1e-4, learning_rate=1.0,
                  initial_pb=None, starts=1, verbose="auto", chunk=25):
        """Recognition mode: infers one PB vector per sequence with the weights frozen.

        The one-step-ahead error of each sequence is back-propagated to its PB alone and
        the PB follows Adadelta (eqs. 8-10). All sequences are processed at once.

        Args:
            sequences: as in `fit`; lengths may differ.
            steps: Adadelta updates, default 300.
            rho: Adadelta's decay lambda, default 0.9 (Table III).
            epsilon: Adadelta's smoothing term, default 1e-4. It sets the size of the
                first steps (about `sqrt(epsilon)`); Zeiler's 1e-6 starts 10x slower.
            learning_rate: multiplies each Adadelta step, default 1.0 (Zeiler's rule).
            initial_pb: `(n, pb_dim)` start, default the mean of the PB table.
            starts: default 1. With `k > 1`, recognition also starts from `k - 1` rows of
                the PB table spread over it (each the farthest from those chosen before)
                and keeps, per sequence, the PB with the lowest final error: the error
                surface over PB space can have several basins.
            verbose: progress bar when 1 (or "auto").
            chunk: updates per compiled call (and between progress-bar refreshes).

        Returns:
            `(pb, errors)`: `pb` `(n, pb_dim)` and `errors` `(steps, n)`, the error
            (eq. 2, per frame and channel) of each sequence before each update.
        """
        self._require_built("recognize")
        check_positive(steps=steps, chunk=chunk, starts=starts)
        _check_adadelta(rho, epsilon, learning_rate)
        z, mask = self.features_of(sequences)
        n = len(z)
        pb = self.initial_pb(n) if initial_pb is None else np.asarray(
            self._check_pb(np.asarray(initial_pb, "float32"), n), "float32")
        if starts > 1:
            origins = self.spread_pbs(starts)
            pb = np.concatenate([pb] + [np.repeat(o[None], n, axis=0) for o in origins[1:]])
            z, mask = np.tile(z, (starts, 1, 1)), np.tile(mask, (starts, 1))
        progress = keras.utils.Progbar(steps, unit_name="update") if verbose not in (0, False) else None
        settings = [tf.constant(v, "float32") for v in (rho, epsilon, learning_rate)]
        state = [tf.constant(v) for v in (pb, np.zeros_like(pb), np.zeros_like(pb))]
        z, mask = tf.constant(z), tf.constant(mask)
        trace = []
        done = 0
        while done < steps:
            count = min(chunk, steps - done)
            state, errors = self._adadelta(z, mask, state, settings, count, chunk)
            trace.append(errors)
            done += count
            if progress is not None:
                progress.update(done, [("error", float(np.mean(trace[-1][-1])))])
        pb, trace = np.asarray(state[0]), np.concatenate(trace, axis=0)
        if starts > 1:
            final = trace[-1].reshape(starts, n)
            best = final.argmin(axis=0)
            pb = pb.reshape(starts, n, -1)[best, np.arange(n)]
            trace = trace.reshape(len(trace), starts, n)[:, best, np.arange(n)]
        return pb, trace

    def spread_pbs(self, count):
        """`count` starting PBs: the table mean, then table rows far from those chosen."""
        table = self.pb_table.numpy()
        chosen = [table.mean(axis=0)]
        for _ in range(count - 1):
            distance = np.min([np.linalg.norm(table - c, axis=1) for c in chosen], axis=0)
            chosen.append(table[distance.argmax()])
        return np.stack(chosen)

    def stream(self, window=30, updates=5, rho=0.9, epsilon=1e-4, learning_rate=1.0,
               initial_pb=None):
        """A `PBStream` for live recognition (Algorithm 2); see `recognize_stream`."""
        self._require_built("stream")
        _check_adadelta(rho, epsilon, learning_rate)
        return PBStream(self, window, updates, rho, epsilon, learning_rate, initial_pb)

    def recognize_stream(self, frames, window=30, updates=5, verbose="auto", **kwargs):
        """Algorithm 2 over a recorded stream: one PB per frame from a sliding window.

        For every new frame the window of the last `window` frames is updated `updates`
        times with Adadelta, warm-started from the previous frame's PB and Adadelta state.
        Until the window is full, the frames seen so far are used.

        Args:
            frames: `(time, channels)` stream.
            window: frames per window, default 30 (one second at 30 Hz).
            updates: Adadelta updates per new frame, default 5.
            verbose: progress bar when 1 (or "auto").
            **kwargs: `rho`, `epsilon`, `learning_rate`, `initial_pb` as in `stream`.

        Returns:
            `(pb, errors)`: `(time, pb_dim)` PB after each frame and `(time,)` the window's
            error at the last update (NaN for the first frame).
        """
        frames = as_sequence_list([frames], self.channels, name="frames")[0]
        stream = self.stream(window, updates, **kwargs)
        progress = keras.utils.Progbar(len(frames), unit_name="frame") if verbose not in (0, False) else None
        pbs, errors = [], []
        for t, frame in enumerate(frames):
            pbs.append(stream.push(frame))
            errors.append(stream.error)
            if progress is not None and (t + 1) % 100 == 0:
                progress.update(t + 1)
        if progress is not None:
            progress.update(len(frames))
        return np.stack(pbs), np.array(errors, dtype="float32")

    # -- generation mode --------------------------------------------------------------
    def _closed_loop(self, z0, pb, steps):
        cell = self.rnn.cell
        bias = cell.input_bias(pb)
        states = [tf.convert_to_tensor(s) for s in cell.get_initial_state(tf.shape(z0)[0])]
        primer = tf.transpose(z0, [1, 0, 2])

        def read(x, states):
            output, states = cell.step(x, states, bias)
            return self.readout(output), states

        def warm(t, y, *states):
            y, states = read(primer[t], list(states))
            return (t + 1, y, *states)

        y0 = tf.zeros_like(primer[0])
        _, y, *states = tf.while_loop(lambda t, *_: t < tf.shape(primer)[0], warm,
                                      (tf.constant(0), y0, *states))
        outputs = tf.TensorArray(z0.dtype, size=steps)

        def free(t, y, outputs, *states):
            outputs = outputs.write(t, y)
            y, states = read(y, list(states))  # eq. 11: the output is the next input
            return (t + 1, y, outputs, *states)

        _, _, outputs, *_ = tf.while_loop(lambda t, *_: t < steps, free,
                                          (tf.constant(0), y, outputs, *states))
        return tf.transpose(outputs.stack(), [1, 0, 2])

    def generate(self, pb, initial_input, steps):
        """Generation mode: runs the network in closed loop from a PB (eq. 11).

        The network first reads `initial_input` (teacher-forced), then feeds each
        predicted frame back as the next input.

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
        check_positive(steps=steps)
        pb = np.asarray(pb, dtype="float32")
        primer = np.asarray(initial_input, dtype="float32")
        if pb.ndim not in (1, 2):
            raise ValueError(f"`pb` must have shape ({self.pb_dim},) or (batch, {self.pb_dim}). "
                             f"Received shape {pb.shape}.")
        if primer.ndim not in (1, 2, 3):
            raise ValueError(f"`initial_input` must be one frame ({self.channels},), a primer "
                             f"(time, {self.channels}) or a batch (batch, time, "
                             f"{self.channels}). Received shape {primer.shape}.")
        single = pb.ndim == 1
        if single:
            pb = pb[None]
        if primer.ndim == 1:
            primer = primer[None]
        if primer.ndim == 2:
            primer = np.repeat(primer[None], len(pb), axis=0)
        self._check_pb(pb, len(primer))
        as_sequence_list(primer, self.channels, min_length=1, name="initial_input")
        z0 = np.asarray(self.to_features(primer))
        fn = self._compiled(("generate", steps), lambda: tf.function(
            lambda z0, pb: self._closed_loop(z0, pb, steps), jit_compile=True,
            reduce_retracing=True, autograph=False))
        frames = np.asarray(self.to_channels(fn(z0, pb)))
        return frames[0] if single and np.asarray(initial_input).ndim < 3 else frames

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "units": self.units,
            "pb_dim": self.pb_dim,
            "cell": self.cell,
            "pca_components": self.pca_components,
            "compress": self.compress,
            "pb_learning_rate": self.pb_learning_rate,
            "pb_epsilon": self.pb_epsilon,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "sequence_labels": self.sequence_labels,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_adadelta(rho, epsilon, learning_rate):
    check_rate("rho", rho, closed_low=False)
    check_positive_float(epsilon=epsilon, learning_rate=learning_rate)


class PBStream:
    """Live PB recognition, the paper's Algorithm 2: `push` a frame, get the current PB.

    Keeps the last `window` frames; every `push` runs `updates` Adadelta updates of the PB
    on them, starting from the previous PB and Adadelta state, so the PB tracks the
    behaviour as it changes. Built by `RNNPB.stream(...)`.

    Attributes:
        pb: the current `(pb_dim,)` PB vector.
        error: the window's error at the last update (NaN before the second frame).
    """

    def __init__(self, model, window, updates, rho, epsilon, learning_rate, initial_pb):
        check_positive(window=window, updates=updates)
        if window < 2:
            raise ValueError(f"`window` must be at least 2 frames. Received: window={window}")
        self.model = model
        self.window = window
        self.updates = updates
        self.settings = [tf.constant(v, "float32") for v in (rho, epsilon, learning_rate)]
        start = model.initial_pb(1) if initial_pb is None else np.asarray(
            model._check_pb(np.asarray(initial_pb, "float32").reshape(1, -1), 1), "float32")
        self.initial = start
        # The frame transform in NumPy: eager TensorFlow ops would cost more than the update.
        self._mean = model.frame_mean.numpy()
        self._scale = model.frame_scale.numpy()
        self._components = model.components.numpy()
        self._compress = model.compress
        self.reset()

    def _to_features(self, frame):
        if self._compress is not None:
            frame = np.arcsinh(frame / self._compress)
        return ((frame - self._mean) / self._scale) @ self._components

    def reset(self):
        """Forgets the frames and restarts from the initial PB."""
        self.buffer = np.zeros((1, self.window, self.model.features), dtype="float32")
        self.mask = np.zeros((1, self.window), dtype="float32")
        self.count = 0
        self.state = [tf.constant(v) for v in (self.initial, np.zeros_like(self.initial),
                                               np.zeros_like(self.initial))]
        self.error = float("nan")

    @property
    def pb(self):
        return np.asarray(self.state[0])[0]

    def push(self, frame):
        """Adds one `(channels,)` frame; returns the PB after this frame's updates."""
        frame = np.asarray(frame, dtype="float32").reshape(-1)
        if frame.shape[0] != self.model.channels or not np.isfinite(frame).all():
            raise ValueError(
                f"A stream frame must hold {self.model.channels} finite values. "
                f"Received: {frame}"
            )
        z = self._to_features(frame)
        if self.count < self.window:
            self.buffer[0, self.count] = z
            self.mask[0, self.count] = 1.0
            self.count += 1
        else:
            self.buffer[0, :-1] = self.buffer[0, 1:]
            self.buffer[0, -1] = z
        if self.count >= 2:
            self.state, errors = self.model._adadelta(
                tf.constant(self.buffer), tf.constant(self.mask), self.state, self.settings,
                self.updates, self.updates)
            self.error = float(errors[-1, 0])
        return self.pb


@register_model
def rnnpb(**overrides):
    """RNNPB of Zhong & Yang (seed `000_*`, Table III): Elman net, 100 hidden, 2 PB units.

    Learns with Adagrad, recognises with Adadelta (lambda 0.9), generates in closed loop.
    Built by its first `fit`, which sets the channel count and the PB table size.
    """
    return RNNPB(**{"units": 100, "pb_dim": 2, "cell": "elman", **overrides})
