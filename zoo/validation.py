"""Checks at the API boundary, so bad sequences fail early with a message a user can act on."""

import difflib
import inspect

import numpy as np


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


def _wrong_kind(default, value):
    """What `value` should have been, given the parameter's `default`; None when it fits."""
    number = isinstance(value, (int, float, np.integer, np.floating))
    if isinstance(default, bool):
        if isinstance(value, (bool, np.bool_)) or (
                number and not isinstance(value, (float, np.floating)) and value in (0, 1)):
            return None
        return "true or false (or 1 or 0)"
    if isinstance(default, int):
        if isinstance(value, (bool, np.bool_, str, float, np.floating)):
            return "a whole number"
    elif isinstance(default, float):
        if isinstance(value, (bool, np.bool_, str)):
            return "a number"
    elif isinstance(default, str) and (number or isinstance(value, (bool, np.bool_))):
        return "a name (a string)"
    return None


def check_types(owner, function, args, kwargs):
    """Raise a TypeError for a setting whose value is not of its default's kind: a boolean
    setting takes true/false (or 1/0), a whole-number setting refuses fractions and text, a
    number setting refuses text, a name setting refuses numbers. Settings whose default is
    None, and values None, are left to the model.

    Args:
        owner: what the settings are for, as the message names it.
        function: the constructor whose signature's defaults type the settings (its first
            parameter is `self`).
        args, kwargs: the call's arguments.
    """
    signature = inspect.signature(function)
    try:
        bound = signature.bind_partial(None, *args, **kwargs).arguments
    except TypeError:
        return  # the call itself names what is wrong
    for key, value in bound.items():
        parameter = signature.parameters[key]
        default = parameter.default
        if value is None or default is None or default is parameter.empty:
            continue
        if expected := _wrong_kind(default, value):
            raise TypeError(f"{owner}: `{key}` takes {expected}; its default is {default!r}. "
                            f"Received: {key}={value!r}")
