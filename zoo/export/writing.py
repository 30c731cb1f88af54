"""`zoo.export.export` and `read_card`: the formats, the card, the atomic write (the
package's docstring describes what each format holds)."""


import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from zoo import backend
from zoo.export import FORMATS, QUANTIZE, formats
from zoo.export.cards import read_card  # noqa: F401 (zoo.export.read_card)
from zoo.export.endpoints import ExportError, chain_endpoints
from zoo.export.streaming import NotCausalError, StepFunction, stream
from zoo.files import atomic_path, check_out, foreign_names
from zoo.pretrained.writing import zoo_version



def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _check(model, format, batch, steps, quantize, streaming):
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model. Received: {type(model).__name__}")
    if format not in FORMATS:
        raise ValueError(f"`format` must be one of {', '.join(FORMATS)}. Received: {format!r}")
    for name, value in (("batch", batch), ("steps", steps)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or value < 1):
            raise ValueError(f"`{name}` must be an int >= 1 or None. Received: {value!r}")
    if quantize is not None and quantize not in QUANTIZE:
        raise ValueError(f"`quantize` must be None, 'float16' or 'int8'. Received: {quantize!r}")
    if quantize is not None and format != "litert":
        raise ValueError(f"`quantize` applies to LiteRT only; format is {format!r}.")
    if streaming not in (None, True, False):
        raise ValueError(f"`streaming` must be None (when causal), True or False. "
                         f"Received: {streaming!r}")


def _targets(path, format, names):
    """`{endpoint: file}`: one file (or folder) holds them all, but ONNX writes one graph
    per endpoint: `serve` at `path`, the others beside it as `<stem>.<endpoint>.onnx`."""
    if format != "onnx":
        return {name: path for name in names}
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return {name: path if name == "serve" else path.with_name(f"{stem}.{name}.onnx")
            for name in names}


def _litert_needs_steps(model):
    """LiteRT needs every shape fixed (ONNX keeps an unknown time axis as a `Loop`)."""
    inputs = getattr(model, "inputs", None) or []
    return not inputs or any(t.shape[1] is None for t in inputs if len(t.shape) >= 2)


def export(model, path, format="saved_model", batch=None, steps=None, streaming=None,
           quantize=None, card=None, overwrite=False):
    """Writes `model` in `format` to `path`, with its card and, if causal, its step.

    Needs the TensorFlow Keras backend: every format is written from a TensorFlow graph.

    Args:
        model: a built `keras.Model` of one input (every zoo sequence model).
        path: the folder (SavedModel) or file (`.tflite`, `.onnx`) to write.
        format: `"saved_model"` (default), `"litert"` or `"onnx"`.
        batch, steps: fix the batch size and the number of frames of `serve` (LiteRT needs
            both: `batch` defaults to 1 and `steps` must be given for sequence models).
            ONNX without `steps` keeps the time axis open (each recurrent loop an ONNX
            `Loop`); with `steps`, the loops are unrolled over that many frames.
        streaming: None (default) adds `step` when the model is causal; True requires it
            (a non-causal model raises `NotCausalError`); False leaves it out.
        quantize: LiteRT only: None, `"float16"` or `"int8"` (dynamic-range).
        card: extra card fields (name, pretrained tag and sha256, preprocessing, metrics).
        overwrite: replace an existing `path` (refused by default).

    Returns:
        The card written (a dict); `read_card(path)` reads it back.

    Example:

    ```python
    model = zoo.get("gru_classifier", weights="japanese_vowels")
    zoo.export.export(model, "vowels.tflite", format="litert", steps=29)
    ```
    """
    backend.require("zoo.export")
    _check(model, format, batch, steps, quantize, streaming)
    path = Path(path)
    if format == "litert":
        batch = batch or 1
    if format == "litert" and steps is None and _litert_needs_steps(model):
        raise ExportError("LiteRT needs a fixed number of frames here: pass steps=N "
                          "(--steps N), the longest sequence you will run.")
    if hasattr(model, "export_endpoints"):
        endpoints, signatures = model.export_endpoints(batch, steps, streaming)
    else:
        endpoints, signatures = chain_endpoints(model, batch, steps, streaming)
    targets = _targets(path, format, list(endpoints))
    for target in targets.values():
        if target.exists() and not overwrite:
            raise FileExistsError(f"{target} exists; pass overwrite=True (--overwrite) to "
                                  "replace it.")
        check_out(target, f"an earlier {format} export", earlier_export(format),
                  overwrite=overwrite, error=ExportError)
    full_card = _jsonable({
        "zoo_export": 1, "format": format, "quantize": quantize, "zoo_version": zoo_version(),
        "model": {"class": type(model).__name__, "name": model.name,
                  "config": _config(model)},
        "signatures": signatures,
        "files": {name: target.name for name, target in targets.items()},
        **(card or {})})
    _write(model, path, format, endpoints, full_card, quantize, targets, overwrite,
           steps)
    return full_card


def _config(model):
    try:
        return model.get_config()
    except NotImplementedError:  # a subclassed model without get_config: the card says so
        return None


def _recurrent_layers(model):
    import keras

    return [layer for layer in model._flatten_layers(include_self=False)
            if isinstance(layer, keras.layers.RNN)]


def _fresh_traces(model):
    """Drops the recurrent layers' compiled loops, so this export traces them anew at its
    own shapes (a loop traced for dynamic shapes would otherwise be reused, and LiteRT
    cannot fix its shapes)."""
    for layer in _recurrent_layers(model):
        if hasattr(layer, "_jit_loop"):
            layer._jit_loop = None


def _onnx(model, endpoints, card, steps):
    """ONNX graphs of the endpoints. With `steps`, the recurrent loops are unrolled over
    that many frames; without, each stays a loop (ONNX `Loop`) over a time axis of any
    length, traced without the XLA compilation tf2onnx cannot look inside."""
    layers = _recurrent_layers(model)
    kept = [(layer.unroll, getattr(layer, "jit_inference", None)) for layer in layers]
    try:
        for layer in layers:
            if steps is not None:
                layer.unroll = True
            elif hasattr(layer, "jit_inference"):
                layer.jit_inference = False
        return [formats.attach_onnx_card(formats.convert_onnx(fn, signature), card)
                .SerializeToString() for fn, signature in endpoints.values()]
    finally:
        for layer, (unroll, jit) in zip(layers, kept):
            layer.unroll = unroll
            if jit is not None:
                layer.jit_inference = jit
        _fresh_traces(model)


def _write(model, path, format, endpoints, card, quantize, targets, overwrite,
           steps=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    _fresh_traces(model)
    scratch = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.export-"))
    try:
        import tensorflow as tf

        saved = scratch / "saved_model"
        formats.write_saved_model(model, saved, endpoints)
        loaded = tf.saved_model.load(str(saved))        # read once: outputs, then LiteRT
        _describe_outputs(loaded, card)
        if format == "saved_model":
            formats.attach_saved_model_card(saved, card)
            formats.move_folder_into_place(saved, path, overwrite)
            return
        if format == "litert":
            flat = formats.convert_litert(loaded, list(endpoints), quantize)
            blobs = [formats.attach_litert_card(flat, card)]
        else:
            blobs = _onnx(model, endpoints, card, steps)
        for target, blob in zip(targets.values(), blobs):
            with atomic_path(target) as tmp:
                Path(tmp).write_bytes(blob)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _describe_outputs(loaded, card):
    """Adds each signature's outputs (names, shapes, dtypes) to the card, as traced."""
    from zoo.export.endpoints import spec_of

    signatures = loaded.signatures
    for name, entry in card["signatures"].items():
        outputs = signatures[name].structured_outputs
        entry["outputs"] = {key: spec_of(value) for key, value in sorted(outputs.items())}


#: What `write_saved_model` leaves at the top of a SavedModel folder.
SAVED_MODEL_NAMES = ("saved_model.pb", "fingerprint.pb", "variables", "assets")


def earlier_export(format):
    """`earlier(path)` for `zoo.files.check_out`: None when `path` is an export of `format`
    that zoo wrote (its card says so) holding nothing else; otherwise why not."""
    def earlier(path):
        path = Path(path)
        if format == "saved_model" and not path.is_dir():
            return "it is a file, and a SavedModel is a folder"
        if format != "saved_model" and path.is_dir():
            return "it is a folder"
        try:
            card = read_card(path)
        except Exception:  # any unreadable or foreign file: not an export of zoo's
            card = None
        if not isinstance(card, dict) or card.get("zoo_export") != 1 or (
                card.get("format") != format):
            return ((foreign_names(path, SAVED_MODEL_NAMES) if path.is_dir() else None)
                    or f"it carries no zoo card of a {format} export")
        return foreign_names(path, SAVED_MODEL_NAMES) if path.is_dir() else None
    return earlier


