"""Corpus-level streaming metrics for sequence regression: CCC and RMSE per output.

AVEC scores a system by concatenating every frame of every recording and computing one
CCC per dimension. These metrics accumulate statistics (in float64) across batches so
`result()` is exactly that number, whatever the batching, with padded frames left out.
CCC keeps means and centred sums, merged batch by batch (Chan, Golub & LeVeque 1979), not
raw sums of squares, which cancel catastrophically on data with a large offset.
"""

import keras
from keras import ops

from zoo.losses import EPSILON, _check_shapes, _combined_mask, _frame_weights, select


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

    def _create(self, outputs):
        if outputs <= 0:
            raise ValueError(f"`outputs` must be positive. Received: outputs={outputs}")
        self.outputs = int(outputs)
        self._sums = {
            key: self.add_variable(
                shape=(self.outputs,), initializer="zeros", dtype="float64", name=key
            )
            for key in self._statistics
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
        y_true = ops.cast(y_true, "float64")
        y_pred = ops.cast(y_pred, "float64")
        weights = _frame_weights(y_pred, mask)
        weights, y_true, y_pred = select(weights, y_true, y_pred)
        y_true, y_pred, weights = (
            ops.reshape(v, (-1, self.outputs)) for v in (y_true, y_pred, weights)
        )
        self._accumulate(y_true, y_pred, weights)

    def _accumulate(self, y_true, y_pred, w):
        for key, value in self._frame_terms(y_true, y_pred, w).items():
            self._sums[key].assign_add(ops.sum(value, axis=0))

    def reset_state(self):
        if self._sums is not None:
            for variable in self._sums.values():
                variable.assign(ops.zeros_like(variable))

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

    # Weight total, weighted means, and weighted sums of centred products.
    _statistics = ("n", "mean_t", "mean_p", "m_tt", "m_pp", "m_tp")

    def __init__(self, outputs=None, name="ccc", dtype=None):
        super().__init__(outputs=outputs, name=name, dtype=dtype)

    def _accumulate(self, y_true, y_pred, w):
        # The batch's own moments, two-pass, then the pairwise merge with the running ones.
        s = self._sums
        n_b = ops.sum(w, axis=0)
        safe_b = ops.maximum(n_b, EPSILON)
        mean_t_b = ops.sum(w * y_true, axis=0) / safe_b
        mean_p_b = ops.sum(w * y_pred, axis=0) / safe_b
        dt, dp = y_true - mean_t_b, y_pred - mean_p_b
        n_a = s["n"].value
        n = n_a + n_b
        share = n_b / ops.maximum(n, EPSILON)
        cross = n_a * share  # n_a n_b / n
        delta_t, delta_p = mean_t_b - s["mean_t"].value, mean_p_b - s["mean_p"].value
        s["m_tt"].assign_add(ops.sum(w * dt * dt, axis=0) + delta_t * delta_t * cross)
        s["m_pp"].assign_add(ops.sum(w * dp * dp, axis=0) + delta_p * delta_p * cross)
        s["m_tp"].assign_add(ops.sum(w * dt * dp, axis=0) + delta_t * delta_p * cross)
        s["mean_t"].assign_add(delta_t * share)
        s["mean_p"].assign_add(delta_p * share)
        s["n"].assign(n)

    def result(self):
        if self._sums is None:
            return ops.zeros(())
        sums = self._sums
        n = ops.maximum(sums["n"], EPSILON)
        mean_t, mean_p = sums["mean_t"], sums["mean_p"]
        var_t, var_p, cov = sums["m_tt"] / n, sums["m_pp"] / n, sums["m_tp"] / n
        score = 2.0 * cov / (var_t + var_p + ops.square(mean_t - mean_p) + EPSILON)
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
