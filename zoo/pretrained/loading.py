"""Verified loading: a weights file's sha256 is checked against its card before Keras
reads a byte, and the architecture comes from the card's settings and the registered
factory, never from the file."""

import hashlib
import importlib.metadata
import tempfile
from pathlib import Path

import keras
import numpy as np

from zoo.pretrained.manifest import FREE_SETTINGS, card
from zoo.registry import factory, named


class ChecksumError(ValueError):
    """A weights file does not match the sha256 of its card (corrupted or truncated)."""


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified_bytes(key, entry=None):
    """The bytes of entry `key`'s weights file (card `entry`, read if not given), after
    checking size and sha256."""
    entry = card(key) if entry is None else entry
    if Path(entry["file"]).name != entry["file"] or not entry["file"].endswith(".weights.h5"):
        raise ValueError(f"Pretrained '{key}': the card names {entry['file']!r}; a weights file "
                         "is a plain `.weights.h5` name inside the manifest's folder.")
    path = Path(entry["directory"]) / entry["file"]
    if not path.is_file():
        raise ChecksumError(f"Pretrained '{key}': the weights file {path} is missing.")
    data = path.read_bytes()
    if len(data) != entry["bytes"]:
        raise ChecksumError(
            f"Pretrained '{key}': {path} holds {len(data)} bytes, the card says "
            f"{entry['bytes']} (truncated or replaced). Reinstall zoo or rerun the recipe: "
            f"{entry['recipe']}"
        )
    found = hashlib.sha256(data).hexdigest()
    if found != entry["sha256"]:
        raise ChecksumError(
            f"Pretrained '{key}': sha256 of {path} is {found}, the card says "
            f"{entry['sha256']}. The file is corrupted; nothing was loaded."
        )
    return data


def _check_requirements(key, entry):
    for package, version in entry.get("requires", {}).items():
        try:
            found = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            raise ImportError(
                f"Pretrained '{key}' needs {package}=={version}: pip install 'zoo[text]'."
            ) from None
        if found != version:
            raise ImportError(
                f"Pretrained '{key}' was trained with {package}=={version}; {found} is installed."
            )


def weights_target(model, entry):
    """The model, or its sub-layer whose weights the file holds (`part`)."""
    return model.get_layer(entry["part"]) if entry.get("part") else model


def load_verified(model, entry, data):
    """Loads checked `data` (from `verified_bytes`) into `model` (its `part`, if any)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "verified.weights.h5"
        path.write_bytes(data)
        weights_target(model, entry).load_weights(str(path))


def build_from_card(entry, settings):
    fn = factory(entry["name"])
    model = fn(**named(entry["name"], fn, settings))
    if entry.get("build") and not model.built:
        model.build(tuple(entry["build"]))
    return model


def load_weights(model, key):
    """Loads entry `key` into `model`, an architecture that matches the card.

    The checksum is checked first; if anything fails, `model` keeps the weights it had.
    """
    entry = card(key)
    data = verified_bytes(key, entry)
    _check_requirements(key, entry)
    before = [np.array(w) for w in model.weights]
    try:
        load_verified(model, entry, data)
    except Exception as error:
        for variable, value in zip(model.weights, before):
            variable.assign(value)
        raise ValueError(f"Pretrained '{key}' does not fit this model: {error}") from error
    return model


def input_scaling(entry):
    """The card's per-channel input statistics as model settings (`input_mean`,
    `input_std`), so the loaded model standardises raw inputs itself; empty without them."""
    prep = entry.get("preprocessing") or {}
    if "mean" not in prep or "std" not in prep:
        return {}
    return {"input_mean": prep["mean"], "input_std": prep["std"]}


def load(name, tag, **overrides):
    """Builds model `name` with the settings of entry `name.tag` and loads its weights.

    Overrides: the head settings of the card (`head_settings`, e.g. `classes`) rebuild the
    head at random and load everything else; `FREE_SETTINGS` (dropout rates, name) are
    free; any other setting must equal the card's, since the weights were trained with it.
    """
    key = f"{name}.{tag}"
    entry = card(key)
    settings = {**entry["settings"], **input_scaling(entry)}
    head_change = {}
    for option, value in overrides.items():
        if option in entry.get("head_settings", ()) and value != settings.get(option):
            head_change[option] = value
        elif option not in FREE_SETTINGS and settings.get(option, value) != value:
            raise ValueError(
                f"Pretrained '{key}' was trained with {option}={settings.get(option)!r}; "
                f"received {option}={value!r}. Only {', '.join(entry.get('head_settings', ())) or 'no'}"
                f" head settings and {', '.join(FREE_SETTINGS)} may differ."
            )
    data = verified_bytes(key, entry)
    _check_requirements(key, entry)
    source = build_from_card(entry, {**settings, **{k: v for k, v in overrides.items() if k not in head_change}})
    load_verified(source, entry, data)
    if not head_change:
        return source
    model = build_from_card(entry, {**settings, **overrides})
    head = set(entry["head"])
    for layer in model.layers:
        if layer.name in head or not layer.weights:
            continue
        layer.set_weights(source.get_layer(layer.name).get_weights())
    return model


# -- examples: inputs kept with a card, and the outputs the weights give ---------------------


def _to_input(spec):
    if spec["dtype"] == "string":
        import tensorflow as tf

        return tf.constant(spec["value"])
    return np.asarray(spec["value"], dtype=spec["dtype"])


def example_inputs(entry):
    specs = entry["examples"]["inputs"]
    return tuple(_to_input(s) for s in specs) if isinstance(specs, list) else _to_input(specs)


def predict_examples(model, entry):
    """The model's outputs on the card's example inputs, as a float64 array."""
    inputs = example_inputs(entry)
    return keras.ops.convert_to_numpy(model(inputs, training=False)).astype("float64")
