"""Concordance correlation coefficient (CCC) as a function and a loss.

CCC = 2 cov(y, p) / (var(y) + var(p) + (mean(y) - mean(p))^2)  (Lin, 1989), the score of
the AVEC challenges and the training objective of Khorram et al. (2017). Variances and
covariance are population moments (divided by N, as numpy's `var`).
"""

import keras
import numpy as np
from keras import ops

from zoo import backend

EPSILON = 1e-8
_UNITS = ("sequence", "batch")


def _frame_weights(y, mask):
    """Weights shaped like `y` from a mask shaped (..., time) or like `y`.

    Raises:
        ValueError: a concrete mask with a negative or non-finite weight.
    """
    if mask is None:
        return ops.ones_like(y)
    check_weights(mask)
    mask = ops.cast(mask, y.dtype)
    if len(mask.shape) == len(y.shape) - 1:
        mask = ops.expand_dims(mask, -1)
    return ops.broadcast_to(mask, ops.shape(y))


def check_weights(weights, name="sample weights"):
    """Refuses concrete (NumPy or eager) weights that are negative, NaN or inf.

    Symbolic tensors inside a traced function pass; `SequenceModel.fit` checks the arrays
    a user hands it before tracing.
    """
    if weights is None or type(weights).__name__ not in ("ndarray", "EagerTensor", "list"):
        return weights
    array = np.asarray(weights, dtype="float64")
    if array.size and not (np.isfinite(array).all() and array.min() >= 0):
        bad = np.argwhere(~(np.isfinite(array) & (array >= 0)))[0]
        raise ValueError(
            f"{name} must be finite and >= 0 (0 leaves a frame out). Received "
            f"{array[tuple(bad)]} at index {tuple(int(i) for i in bad)}."
        )
    return weights


def select(weights, *values):
    """`values` with every frame of weight 0 replaced by 0, and the weights.

    Masked frames may hold anything (NaN labels of unannotated frames, inf from a padded
    division): they are selected away, never multiplied by 0 (0 x NaN is NaN), so neither
    the value nor the gradient of a statistic sees them.
    """
    keep = weights > 0
    zero = ops.zeros_like(weights)
    return (ops.where(keep, weights, zero), *(ops.where(keep, v, zero) for v in values))


def _moments(y_true, y_pred, weights, axis):
    # Float64 statistics where the backend has float64 (JAX keeps float32 unless
    # `jax_enable_x64`). Each sequence is shifted by one of its own valid frames first,
    # so a constant sequence becomes exact zeros: in float32, the rounding of its mean
    # would leave variances near 1e-13 that the epsilon does not swamp, and constant
    # inputs would score noise instead of 0. CCC does not change under a common shift,
    # so the shift is held out of the gradient.
    dtype = y_pred.dtype
    compute = "float64" if backend.float64_available() else "float32"
    y_true, y_pred, weights = (ops.cast(v, compute) for v in (y_true, y_pred, weights))
    weights, y_true, y_pred = select(weights, y_true, y_pred)
    anchor = ops.expand_dims(ops.argmax(weights, axis=axis), axis)
    shift_t, shift_p = (ops.stop_gradient(ops.take_along_axis(v, anchor, axis=axis))
                        for v in (y_true, y_pred))
    y_true, y_pred = y_true - shift_t, y_pred - shift_p
    n = ops.sum(weights, axis=axis, keepdims=True)
    safe_n = ops.maximum(n, EPSILON)
    mean_t = ops.sum(weights * y_true, axis=axis, keepdims=True) / safe_n
    mean_p = ops.sum(weights * y_pred, axis=axis, keepdims=True) / safe_n
    dt = y_true - mean_t
    dp = y_pred - mean_p
    var_t = ops.sum(weights * dt * dt, axis=axis, keepdims=True) / safe_n
    var_p = ops.sum(weights * dp * dp, axis=axis, keepdims=True) / safe_n
    cov = ops.sum(weights * dt * dp, axis=axis, keepdims=True) / safe_n
    gap = (mean_t - mean_p) + (shift_t - shift_p)
    ccc = 2.0 * cov / (var_t + var_p + ops.square(gap) + EPSILON)
    return (ops.cast(ops.squeeze(ccc, axis=axis), dtype),
            ops.cast(ops.squeeze(n, axis=axis), dtype))


def _check_shapes(y_true, y_pred):
    if len(y_pred.shape) < 2:
        raise ValueError(
            "CCC expects arrays shaped (time, outputs) or (batch, time, outputs). "
            f"Received y_pred with shape {tuple(y_pred.shape)}."
        )
    # Compared dimension by dimension, so a traced batch with unknown sizes still refuses
    # (b, T, 1) labels against a (b, T, 2) model instead of broadcasting.
    differ = len(y_true.shape) != len(y_pred.shape) or any(
        a is not None and b is not None and a != b for a, b in zip(y_true.shape, y_pred.shape))
    if differ:
        raise ValueError(
            "y_true and y_pred must have the same shape. Received "
            f"y_true {tuple(y_true.shape)} and y_pred {tuple(y_pred.shape)}."
        )


def ccc(y_true, y_pred, mask=None, unit="batch"):
    """Concordance correlation coefficient per output dimension.

    Args:
        y_true: targets, `(time, outputs)` or `(batch, time, outputs)`.
        y_pred: predictions, same shape.
        mask: optional `(time,)` or `(batch, time)` (or per-output, same shape as `y_true`)
            0/1 or non-negative frame weights; frames with weight 0 never enter a mean,
            variance or covariance. Default `None` (all frames count).
        unit: `"batch"` pools every frame of every sequence and returns `(outputs,)`;
            `"sequence"` scores each sequence on its own and returns `(batch, outputs)`.
            Default `"batch"`.

    Returns:
        The CCC. A small epsilon in the denominator keeps constant sequences finite
        (a constant prediction of a constant target scores 0, not NaN).

    Example:

    >>> y = np.random.randn(2, 50, 2).astype("float32")
    >>> ccc(y, y)  # -> [1., 1.]
    """
    if unit not in _UNITS:
        raise ValueError(f"`unit` must be one of {_UNITS}. Received: unit={unit!r}")
    y_true = ops.convert_to_tensor(y_true)
    y_pred = ops.convert_to_tensor(y_pred)
    dtype = y_pred.dtype if "float" in str(y_pred.dtype) else "float32"
    y_true = ops.cast(y_true, dtype)
    y_pred = ops.cast(y_pred, dtype)
    _check_shapes(y_true, y_pred)
    weights = _frame_weights(y_pred, mask)
    if unit == "sequence":
        if len(y_pred.shape) != 3:
            raise ValueError(
                "unit='sequence' needs (batch, time, outputs) arrays. Received shape "
                f"{tuple(y_pred.shape)}."
            )
        return _moments(y_true, y_pred, weights, axis=-2)[0]
    outputs = ops.shape(y_pred)[-1]
    flat_t = ops.reshape(y_true, (-1, outputs))
    flat_p = ops.reshape(y_pred, (-1, outputs))
    flat_w = ops.reshape(weights, (-1, outputs))
    return _moments(flat_t, flat_p, flat_w, axis=0)[0]


def _per_replica(loss):
    """`loss` divided by the replica count inside a `tf.distribute` strategy's replica.

    Keras's trainer sums the replicas' gradients and multiplies the logged loss back by the
    count, so each replica's loss must be its share (`zoo.backend.replicas`, 1 outside a
    strategy and on the other backends).
    """
    replicas = backend.replicas()
    return loss if replicas == 1 else loss * ops.cast(1.0 / replicas, loss.dtype)


def _combined_mask(y_pred, sample_weight):
    # A Keras mask (from Masking/mask_zero upstream) and sample weights both mark frames.
    keras_mask = getattr(y_pred, "_keras_mask", None)
    if keras_mask is None:
        return sample_weight
    if sample_weight is None:
        return keras_mask
    return ops.cast(keras_mask, "float32") * ops.cast(sample_weight, "float32")


@keras.saving.register_keras_serializable(package="zoo")
class CCCLoss(keras.losses.Loss):
    """1 - CCC, averaged over output dimensions.

    Pass frame masks of padded batches as `sample_weight` (shape `(batch, time)`) to
    `fit`, or let a Keras mask reach the output; masked frames never enter the statistics.

    Args:
        unit: `"sequence"` (default) scores each sequence separately and averages, so
            every recording counts equally, as in training one recording per batch;
            `"batch"` pools all frames of the batch into one CCC per output. Fully masked
            sequences are left out of the average.
        name: default `"ccc_loss"`.

    Example:

    ```python
    model.compile(optimizer="adam", loss=zoo.losses.CCCLoss())
    model.fit(x, y, sample_weight=mask)
    ```

    Reference:
        Khorram et al., "Capturing long-term temporal dependencies with convolutional
        networks for continuous emotion recognition", Interspeech 2017.
    """

    def __init__(self, unit="sequence", name="ccc_loss", dtype=None):
        if unit not in _UNITS:
            raise ValueError(f"`unit` must be one of {_UNITS}. Received: unit={unit!r}")
        super().__init__(name=name, dtype=dtype)
        self.unit = unit

    def __call__(self, y_true, y_pred, sample_weight=None):
        mask = _combined_mask(y_pred, sample_weight)
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        # Keras's own losses divide each replica's loss by the replica count under a
        # `tf.distribute` strategy (and the trainer multiplies it back for the logs); a
        # loss that skips this reports, and steps with, N times the value on N replicas.
        return _per_replica(self.call(y_true, y_pred, mask))

    def call(self, y_true, y_pred, mask=None):
        _check_shapes(y_true, y_pred)
        if self.unit == "batch" or len(y_pred.shape) == 2:
            return 1.0 - ops.mean(ccc(y_true, y_pred, mask, unit="batch"))
        weights = _frame_weights(y_pred, mask)
        scores, n = _moments(y_true, y_pred, weights, axis=-2)
        valid = ops.cast(n > 0, scores.dtype)
        mean_ccc = ops.sum(scores * valid) / ops.maximum(ops.sum(valid), 1.0)
        return 1.0 - mean_ccc

    def get_config(self):
        return {"unit": self.unit, "name": self.name, "dtype": self.dtype}
