"""Checks at the API boundary, so bad sequences fail early with a message a user can act on."""

import numpy as np


def check_sequences(x, input_dim=None, min_length=1, name="inputs"):
    """Validate a batch of sequences shaped (batch, time, features).

    Args:
        x: array-like, or something that is not an array (a `tf.data.Dataset`, a
            generator), which is returned unchecked.
        input_dim: expected number of features, or None to skip that check.
        min_length: the fewest time steps accepted. Default 1.
        name: how the message names `x`.

    Returns:
        `x` unchanged.

    Raises:
        ValueError: wrong rank, wrong feature size, too few frames, NaN or inf.
    """
    if isinstance(x, (list, tuple)) and x and all(hasattr(v, "shape") for v in x):
        for i, item in enumerate(x):
            check_sequences(item, input_dim, min_length, f"{name}[{i}]")
        return x
    if not (isinstance(x, np.ndarray) or _is_eager_tensor(x)):
        return x
    array = np.asarray(x)
    if array.ndim != 3:
        raise ValueError(
            f"{name} must be shaped (batch, time, features). "
            f"Received an array of shape {array.shape}."
        )
    if input_dim is not None and array.shape[-1] != input_dim:
        raise ValueError(
            f"{name} has {array.shape[-1]} features per frame but the model expects "
            f"input_dim={input_dim}. Received shape {array.shape}."
        )
    if array.shape[1] < min_length:
        what = "an empty sequence" if array.shape[1] == 0 else "sequences that are too short"
        raise ValueError(
            f"{name} holds {what}: {array.shape[1]} time steps, at least {min_length} "
            f"needed. Received shape {array.shape}."
        )
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        kind = "NaN" if np.isnan(array[tuple(bad)]) else "inf"
        raise ValueError(
            f"{name} contains {kind} (first at batch {bad[0]}, time step {bad[1]}, "
            f"feature {bad[2]}). Clean or impute the features before calling the model."
        )
    return x


def _is_eager_tensor(x):
    # Only concrete values are checked; symbolic tensors inside a traced function pass.
    return type(x).__name__ == "EagerTensor"


def check_positive(**values):
    """Raise a ValueError naming the first of `values` that is not a positive int."""
    for key, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"`{key}` must be a positive integer. Received: {key}={value!r}")
