"""Learning mode of the RNNPB: the weights and one PB vector per training sequence.

`Learning` is the part of `RNNPB` that Keras's `fit` runs: the weights follow the
compiled optimizer (Adagrad by default, eqs. 3-5 of Zhong & Yang) and the PB rows of the
batch follow their own Adagrad rule (eqs. 6-7, `optimizers.pb_adagrad`). Each PB gets
the gradient of its own sequence's error, not of the batch mean, so how fast a PB moves
does not depend on the batch size. `fit(until=...)` runs the paper's Algorithm 1 instead
of minibatches.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo import backend
from zoo.data.sequences import as_sequence_list, pad
from zoo.models.progress import resolve
from zoo.models.rnnpb.optimizers import pb_adagrad
from zoo.validation import check_positive


def random_window(window, length, seed):
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


#: `fit(epochs="auto")`: at most this many epochs ...
AUTO_MAX_EPOCHS = 1000
#: ... stopping once the loss has not improved by `AUTO_MIN_IMPROVEMENT` (relative) on its
#: best value for `AUTO_PATIENCE` epochs.
AUTO_PATIENCE = 20
AUTO_MIN_IMPROVEMENT = 0.01


class Converged(keras.callbacks.Callback):
    """Stops training when the loss has not improved by `min_improvement` (a fraction of
    its best value so far) for `patience` epochs: the prediction error has converged.

    `fit(epochs="auto")` adds one. Relative, because eq. 2's scale depends on the data
    (standardised frames start near 1 and good fits reach 0.01-0.1); 1% over 20 epochs
    stops where further epochs buy less than a few percent of error.
    """

    def __init__(self, patience=None, min_improvement=None):
        super().__init__()
        patience = AUTO_PATIENCE if patience is None else patience
        min_improvement = AUTO_MIN_IMPROVEMENT if min_improvement is None else min_improvement
        check_positive(patience=patience)
        self.patience = patience
        self.min_improvement = float(min_improvement)
        self.best, self.wait, self.stopped_epoch = float("inf"), 0, None

    def on_epoch_end(self, epoch, logs=None):
        loss = float((logs or {}).get("loss", float("nan")))
        if not np.isfinite(loss):
            return
        if loss < self.best * (1.0 - self.min_improvement):
            self.best, self.wait = loss, 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True


def _check_even_batches(count, batch_size):
    """`keras.distribution` on JAX splits every batch evenly over its devices (TensorFlow's
    MirroredStrategy takes uneven batches, a replica left without sequences adding nothing);
    refuse a batch it cannot split, before the first step, rather than inside JAX."""
    if backend.name() != "jax" or keras.distribution.distribution() is None:
        return
    devices = keras.distribution.distribution().device_mesh.devices.size
    sizes = {min(batch_size, count)} | ({count % batch_size} if count % batch_size else set())
    uneven = sorted(size for size in sizes if size % devices)
    if uneven:
        raise ValueError(
            f"keras.distribution on JAX splits every batch over its {devices} devices; "
            f"{count} sequences in batches of {batch_size} give a batch of {uneven[0]}. Pass "
            f"a batch_size that is a multiple of {devices} and leaves a last batch that is "
            "one too (or none), or train under TensorFlow's MirroredStrategy, which takes "
            "uneven batches.")


class Learning:
    """`compile`, `fit` and the train/test steps of `RNNPB` (a mixin of `keras.Model`)."""

    def compile(self, optimizer=None, **kwargs):
        """Sets the weights' optimizer: default Adagrad at 0.05 (the paper's method, eqs. 3-5).

        Any Keras optimizer works. The PB table follows its own rule (eqs. 6-7) at
        `pb_learning_rate`. `loss` is fixed (eq. 2) and must not be passed.
        """
        if "loss" in kwargs:
            raise ValueError("An RNNPB learns with its own loss (eq. 2); do not pass `loss`.")
        if optimizer is None:
            optimizer = keras.optimizers.Adagrad(learning_rate=0.05)
        # XLA cannot compile TensorFlow's gradient of the recurrent loop inside Keras's
        # train function ("TensorList crossing the XLA/TF boundary"); JAX compiles it.
        if backend.fast_loops():
            kwargs.setdefault("jit_compile", False)
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        """Restores the optimizer when a `.keras` file is loaded (the loss is fixed)."""
        config = keras.saving.deserialize_keras_object(config)
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
        ids = ops.convert_to_tensor(ids, "int32")
        pb = ops.take(self.pb_table, ids, axis=0)
        weights = self.trainable_weights
        # Under a `tf.distribute` strategy each replica holds part of the batch and the
        # optimizer sums the replicas' gradients: each divides its mean by the replica
        # count, as Keras's losses do, so the sum is the gradient of the global mean.
        replicas = backend.replicas()

        def loss(pb):
            errors = self.sequence_errors(z, mask, pb, training=True)
            return ops.mean(errors) / replicas, errors

        _, errors, (pb_grad,), grads = backend.value_and_grad(loss, [pb], weights, model=self)
        with backend.no_grad():
            self.optimizer.apply(grads, weights)
            # Each PB follows the gradient of its own sequence's error, not the batch mean.
            pb_grad = pb_grad * ops.cast(ops.shape(ids)[0] * replicas, pb.dtype)
            accumulator = ops.take(self.pb_accumulator, ids, axis=0)
            pb, accumulator = pb_adagrad(pb, accumulator, pb_grad, self.pb_learning_rate,
                                         self.pb_epsilon)
            # Every replica writes every replica's rows, so the copies of the table agree.
            ids, pb, accumulator = backend.all_gather([ids, pb, accumulator])
            rows = ops.expand_dims(ids, -1)
            self.pb_table.assign(ops.scatter_update(self.pb_table.value, rows, pb))
            self.pb_accumulator.assign(
                ops.scatter_update(self.pb_accumulator.value, rows, accumulator))
        return errors

    def _train_step(self, data):
        z, mask, ids = data
        errors = self._learn(z, mask, ids)
        self._loss_tracker.update_state(errors, sample_weight=None)
        return {"loss": self._loss_tracker.result()}

    def _test_step(self, data):
        z, mask, ids = data
        errors = self.sequence_errors(z, mask, ops.take(self.pb_table, ids, axis=0))
        self._loss_tracker.update_state(errors)
        return {"loss": self._loss_tracker.result()}

    # Keras's trainers call `train_step(data)` (TensorFlow, PyTorch) or
    # `train_step(state, data)` (JAX); `zoo.backend` runs the stateful step either way.
    def train_step(self, *args):
        return backend.train_step(self, self._train_step, args)

    def test_step(self, *args):
        return backend.test_step(self, self._test_step, args)

    def fit(
        self,
        x,
        labels=None,
        epochs="auto",
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
            epochs: passes over the sequences, or `"auto"` (default): up to
                `AUTO_MAX_EPOCHS` (1000), stopping once the prediction error (eq. 2) has
                converged, i.e. not improved by 1% of its best value for 20 epochs
                (`Converged`).
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
        if epochs != "auto" and (isinstance(epochs, bool) or epochs < 1
                                 if isinstance(epochs, (int, np.integer)) else True):
            raise ValueError(f"`epochs` must be a positive int or 'auto'. Received: {epochs!r}")
        verbose = resolve(verbose)
        if labels is None and hasattr(x, "labels") and hasattr(x, "classes"):
            labels = [x.classes[i] for i in x.labels]
        sequences = as_sequence_list(x, self.channels, name="x")
        if not self.built:
            # Built and compiled in a strategy's scope, fit outside it (as Keras allows):
            # the PB table and the weights made here still belong to that strategy.
            with backend.model_scope(self):
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
            self.fit_frame_transform(sequences)
        if not self.compiled:
            with backend.model_scope(self):
                self.compile()
        if epochs == "auto":
            epochs = AUTO_MAX_EPOCHS
            callbacks = list(callbacks or []) + [Converged()]
        z, mask = pad([ops.convert_to_numpy(self.to_features(s)) for s in sequences])
        ids = np.arange(len(sequences), dtype="int32")
        if until is None:
            check_positive(batch_size=batch_size)
            _check_even_batches(len(ids), batch_size)
            data = tf.data.Dataset.from_tensor_slices((z, mask, ids))
            if shuffle:
                data = data.shuffle(len(ids), reshuffle_each_iteration=True, seed=seed)
            if window is not None:
                data = data.map(random_window(window, z.shape[1], seed))
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
        learn = self._learn  # eager on JAX and PyTorch: the update assigns variables
        if backend.fast_loops():
            learn = self.compiled_function(
                "learn", lambda: tf.function(self._learn, reduce_retracing=True))
        callbacks = keras.callbacks.CallbackList(
            callbacks, add_history=True, add_progbar=bool(verbose),
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
