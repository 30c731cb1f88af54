"""Corpus-level streaming metrics for sequence regression: CCC and RMSE per output.

AVEC scores a system by concatenating every frame of every recording and computing one
CCC per dimension. These metrics accumulate statistics across batches so `result()` is
exactly that number, whatever the batching, with padded frames left out. The sums are
float64 where the backend computes in float64 (TensorFlow, PyTorch); where it does not
(JAX, unless `jax_enable_x64` is set) they are float32 with Kahan-compensated
accumulation across batches, which keeps the statistics of a long corpus to about float32
precision (tested to 1e-6 in CCC) instead of losing digits with every batch added.
CCC sums shifted values: each output's frames minus a shift taken from the first frames
seen (the same shift on every replica of a `tf.distribute` strategy), so the squares do
not cancel catastrophically on data with a large offset, and the sums stay sums, which a
strategy adds up across replicas.
"""

import keras
from keras import ops

from zoo import backend
from zoo.losses import EPSILON, _check_shapes, _combined_mask, _frame_weights, select


def _all_replicas_sum(value):
    """`value` summed over the replicas of a TensorFlow distribution strategy; itself
    elsewhere (one device, or a cross-replica call)."""
    if keras.backend.backend() != "tensorflow":
        return value
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


class _FrameStatistics(keras.metrics.Metric):
    """Sums of per-frame statistics, one slot per output, created on the first update.

    `outputs` may be given up front; otherwise it is read from the first `y_pred`.
    """

    _statistics = ()

    def __init__(self, outputs=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.outputs = outputs
        self._sums = None
        if outputs is not None:
            self._create(outputs)

    #: State that is the same on every replica (read from the first, not added up).
    _shared = ()

    def _create(self, outputs):
        if outputs <= 0:
            raise ValueError(f"`outputs` must be positive. Received: outputs={outputs}")
        self.outputs = int(outputs)
        self._statistics_dtype = "float64" if backend.float64_available() else "float32"
        self._sums = {
            key: self.add_variable(
                shape=(self.outputs,), initializer="zeros", dtype=self._statistics_dtype,
                name=key, aggregation="only_first_replica" if key in self._shared else "sum",
            )
            for key in self._statistics
        }
        # Kahan compensation terms of the float32 sums (none in float64).
        self._compensation = {}
        if self._statistics_dtype == "float32":
            self._compensation = {
                key: self.add_variable(shape=(self.outputs,), initializer="zeros",
                                       dtype="float32", name=f"{key}_compensation",
                                       aggregation="sum")
                for key in self._statistics if key not in self._shared
            }

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = _combined_mask(y_pred, sample_weight)
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.convert_to_tensor(y_true)
        outputs = y_pred.shape[-1]
        if self._sums is None:
            self._create(outputs)
        elif outputs is not None and outputs != self.outputs:
            raise ValueError(
                f"{type(self).__name__} tracks {self.outputs} outputs but received "
                f"y_pred with {outputs} (shape {tuple(y_pred.shape)})."
            )
        _check_shapes(y_true, y_pred)
        y_true = ops.cast(y_true, self._statistics_dtype)
        y_pred = ops.cast(y_pred, self._statistics_dtype)
        weights = _frame_weights(y_pred, mask)
        weights, y_true, y_pred = select(weights, y_true, y_pred)
        y_true, y_pred, weights = (
            ops.reshape(v, (-1, self.outputs)) for v in (y_true, y_pred, weights)
        )
        self._accumulate(y_true, y_pred, weights)

    def _accumulate(self, y_true, y_pred, w):
        for key, value in self._frame_terms(y_true, y_pred, w).items():
            total, batch = self._sums[key], ops.sum(value, axis=0)
            if key not in self._compensation:
                total.assign_add(batch)
                continue
            # Kahan: carry the low-order bits each addition drops into the next one.
            compensation = self._compensation[key]
            step = batch - compensation.value
            new = total.value + step
            compensation.assign((new - total.value) - step)
            total.assign(new)

    def reset_state(self):
        if self._sums is not None:
            for variable in [*self._sums.values(), *self._compensation.values()]:
                variable.assign(ops.zeros(variable.shape, variable.dtype))

    def get_config(self):
        return {"outputs": self.outputs, "name": self.name, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="zoo")
class CCC(_FrameStatistics):
    """Concordance correlation coefficient of all frames seen, one value per output.

    The result equals `zoo.losses.ccc` of all (unmasked) frames of all batches
    concatenated, which is how AVEC scores a corpus.

    Args:
        outputs: number of output dimensions; default `None` reads it from the first batch.
        name: default `"ccc"`.

    Masks: Keras hands `sample_weight` only to `weighted_metrics`, so when padded frames
    are marked by sample weights compile with `weighted_metrics=[CCC()]`; a Keras mask
    carried by the predictions is respected either way.

    Example:

    ```python
    model.compile(loss=zoo.losses.CCCLoss(), weighted_metrics=[zoo.metrics.CCC()])
    model.fit(x, y, sample_weight=mask)
    ```
    """

    # Weight total, sums of shifted values and of their products; the shifts.
    _statistics = ("n", "t", "p", "tt", "pp", "tp", "shift_t", "shift_p")
    _shared = ("shift_t", "shift_p")

    def __init__(self, outputs=None, name="ccc", dtype=None):
        super().__init__(outputs=outputs, name=name, dtype=dtype)

    def _accumulate(self, y_true, y_pred, w):
        s = self._sums
        # The shift: the weighted mean of the first frames seen, over all replicas, kept
        # from then on. Every replica takes the same branch, so the collectives match.
        already = _all_replicas_sum(s["n"].value) > 0
        counted = ops.maximum(_all_replicas_sum(ops.sum(w, axis=0)), EPSILON)
        for key, values in (("shift_t", y_true), ("shift_p", y_pred)):
            first = _all_replicas_sum(ops.sum(w * values, axis=0)) / counted
            s[key].assign(ops.where(already, s[key].value, first))
        # Frames of weight 0 hold finite values (selected in update_state) and count 0.
        super()._accumulate(y_true - s["shift_t"].value, y_pred - s["shift_p"].value, w)

    def _frame_terms(self, t, p, w):
        return {"n": w, "t": w * t, "p": w * p, "tt": w * t * t, "pp": w * p * p,
                "tp": w * t * p}

    def result(self):
        if self._sums is None:
            return ops.zeros(())
        sums = self._sums
        n = ops.maximum(sums["n"], EPSILON)
        mean_t, mean_p = sums["t"] / n, sums["p"] / n  # of the shifted values
        var_t = sums["tt"] / n - mean_t * mean_t
        var_p = sums["pp"] / n - mean_p * mean_p
        cov = sums["tp"] / n - mean_t * mean_p
        # The shifts are added back as their difference: adding a large shift to each
        # mean first would round away the gap's low digits in float32.
        gap = (mean_t - mean_p) + (sums["shift_t"] - sums["shift_p"])
        score = 2.0 * cov / (var_t + var_p + ops.square(gap) + EPSILON)
        return ops.cast(score, self.dtype)


@keras.saving.register_keras_serializable(package="zoo")
class RMSE(_FrameStatistics):
    """Root mean squared error of all (unmasked) frames seen, one value per output.

    Args:
        outputs: number of output dimensions; default `None` reads it from the first batch.
        name: default `"rmse"`.
    """

    _statistics = ("n", "se")

    def __init__(self, outputs=None, name="rmse", dtype=None):
        super().__init__(outputs=outputs, name=name, dtype=dtype)

    def _frame_terms(self, y_true, y_pred, w):
        return {"n": w, "se": w * ops.square(y_true - y_pred)}

    def result(self):
        if self._sums is None:
            return ops.zeros(())
        mse = self._sums["se"] / ops.maximum(self._sums["n"], EPSILON)
        return ops.cast(ops.sqrt(mse), self.dtype)
