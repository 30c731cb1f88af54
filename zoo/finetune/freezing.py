"""Freezing and unfreezing layers by name, index or predicate, and a table of what trains.

Keras 3 applies a change of `layer.trainable` only when the model is compiled again;
`zoo.finetune.fit_stages` recompiles between stages. A frozen `BatchNormalization` runs
in inference mode (Keras 3 does this for any BatchNormalization with `trainable=False`),
so its moving statistics stay as they were.
"""

import keras
import numpy as np
import pandas as pd


def _has_weights(layer):
    return bool(layer.weights)


def layer_groups(model):
    """The model's top-level layers that hold weights, bottom (input side) first."""
    return [layer for layer in model.layers if _has_weights(layer)]


def _position(layers, spec, what):
    """Index in `layers` of the first layer matching `spec` (name, index or predicate)."""
    if isinstance(spec, bool):
        raise TypeError(f"`{what}` must be a layer name, an index or a predicate. Received: {spec!r}")
    if isinstance(spec, int):
        if not -len(layers) <= spec < len(layers):
            raise ValueError(
                f"`{what}`={spec} is out of range: the model has {len(layers)} layers.")
        return spec % len(layers)
    for i, layer in enumerate(layers):
        if (callable(spec) and not isinstance(spec, str) and spec(layer)) or (
            isinstance(spec, str) and layer.name == spec
        ):
            return i
    names = ", ".join(layer.name for layer in layers)
    raise ValueError(f"No layer matches `{what}`={spec!r}. Layers: {names}.")


def select(model, spec):
    """Top-level layers chosen by `spec`.

    Args:
        spec: `"all"`; a layer name; an int index; a predicate `layer -> bool`; or a
            list of these.
    """
    layers = list(model.layers)
    if isinstance(spec, str) and spec == "all":
        return layers
    if isinstance(spec, (list, tuple)):
        chosen = []
        for item in spec:
            chosen += [layer for layer in select(model, item) if layer not in chosen]
        return chosen
    if callable(spec) and not isinstance(spec, str):
        matched = [layer for layer in layers if spec(layer)]
        if not matched:
            raise ValueError(f"No layer matches the predicate {spec!r}.")
        return matched
    return [layers[_position(layers, spec, "spec")]]


def _batchnorms(layer):
    if isinstance(layer, keras.layers.BatchNormalization):
        yield layer
    for sub in getattr(layer, "layers", []):  # nested models
        yield from _batchnorms(sub)


def unfreeze_layer(layer, keep_batchnorm_frozen=True):
    """Makes one layer trainable, its BatchNormalization layers frozen if asked."""
    layer.trainable = True
    if keep_batchnorm_frozen:
        for norm in _batchnorms(layer):
            norm.trainable = False


def _set(layers, trainable, keep_batchnorm_frozen=False):
    for layer in layers:
        if trainable:
            unfreeze_layer(layer, keep_batchnorm_frozen)
        else:
            layer.trainable = False


def freeze(model, until=None):
    """Freezes layers: all of them, or the bottom ones up to and including `until`.

    Args:
        model: a Keras model.
        until: None to freeze every layer; a layer name, index or predicate: freeze from
            the first layer through the first layer that matches.

    Returns:
        The layers frozen.
    """
    layers = list(model.layers)
    chosen = layers if until is None else layers[: _position(layers, until, "until") + 1]
    _set(chosen, False)
    return chosen


def unfreeze(model, top=None, from_layer=None, keep_batchnorm_frozen=True):
    """Unfreezes the top layers.

    Args:
        model: a Keras model.
        top: unfreeze the top `top` layers that hold weights.
        from_layer: or: unfreeze every layer from this one (name, index or predicate) up.
            Give exactly one of `top` and `from_layer`; neither unfreezes everything.
        keep_batchnorm_frozen: default True: BatchNormalization layers inside the
            unfrozen part stay frozen, in inference mode, as Keras's transfer-learning
            guide advises (their statistics were learnt on far more data).

    Returns:
        The layers unfrozen.
    """
    if top is not None and from_layer is not None:
        raise ValueError("Pass `top` or `from_layer`, not both.")
    layers = list(model.layers)
    if top is not None:
        if not isinstance(top, int) or isinstance(top, bool) or top < 0:
            raise ValueError(f"`top` must be an int >= 0. Received: top={top!r}")
        groups = layer_groups(model)
        chosen = groups[len(groups) - top :] if top else []
    elif from_layer is not None:
        chosen = layers[_position(layers, from_layer, "from_layer") :]
    else:
        chosen = layers
    _set(chosen, True, keep_batchnorm_frozen)
    return chosen


def _count(weights):
    return int(sum(np.prod(w.shape) for w in weights))


def trainable_summary(model):
    """A DataFrame: per top-level layer, its class, trainable and frozen parameter counts.

    "frozen" counts every non-trainable weight (frozen layers, and statistics such as
    BatchNormalization's moving mean, which no optimizer trains). The last row, `total`,
    matches `model.trainable_weights` and `model.non_trainable_weights`.
    """
    rows = [
        {
            "layer": layer.name,
            "class": type(layer).__name__,
            "trainable": _count(layer.trainable_weights),
            "frozen": _count(layer.non_trainable_weights),
        }
        for layer in model.layers
    ]
    rows.append({
        "layer": "total",
        "class": "",
        "trainable": _count(model.trainable_weights),
        "frozen": _count(model.non_trainable_weights),
    })
    return pd.DataFrame(rows, columns=["layer", "class", "trainable", "frozen"])
