"""Checks at the API boundary, so bad sequences fail early with a message a user can act on."""

import difflib
import inspect

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


def check_rate(name, value, low=0.0, high=1.0, closed_low=True):
    """Raise a ValueError unless `low <= value < high` (or `low < value < high`).

    Dropout rates are `[0, 1)`; Adadelta's decay `rho` is `(0, 1)` (`closed_low=False`).
    """
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = (low <= value if closed_low else low < value) and value < high
    if not ok:
        bracket = "[" if closed_low else "("
        raise ValueError(f"`{name}` must be in {bracket}{low:g}, {high:g}). Received: "
                         f"{name}={value!r}")


def check_positive_float(**values):
    """Raise a ValueError naming the first of `values` that is not a finite number > 0
    (learning rates, smoothing terms, scales)."""
    for key, value in values.items():
        number = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(
            value, bool)
        if not (number and np.isfinite(value) and value > 0):
            raise ValueError(f"`{key}` must be a finite number > 0. Received: {key}={value!r}")


def settings_names(cls, extra=("name", "trainable", "dtype")):
    """The settings `cls(...)` takes: its constructor's named parameters, then `extra`."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    named = [p.name for p in parameters if p.name != "self" and p.kind in (
        p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return tuple(dict.fromkeys((*named, *extra)))


def check_settings(owner, given, accepted):
    """Raise a TypeError for settings in `given` that `owner` does not take.

    Args:
        owner: what the settings are for, as the message names it (a model name or class).
        given: the setting names received.
        accepted: the setting names `owner` takes.
    """
    unknown = [key for key in given if key not in accepted]
    if not unknown:
        return
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, list(accepted), n=1, cutoff=0.6)
        hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise TypeError(
        f"{owner} got unknown setting(s) {', '.join(hints)}. It takes: "
        f"{', '.join(sorted(accepted))}."
    )
