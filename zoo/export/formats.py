"""The three formats: a SavedModel folder, a LiteRT flatbuffer, an ONNX graph; and the card
each carries (SavedModel: `assets/zoo_card.json`; LiteRT: the model's metadata entry
`zoo_card`; ONNX: the graph's `metadata_props["zoo_card"]`)."""

import json
import os
from pathlib import Path

from zoo.export.cards import CARD_FILE, CARD_NAME, read_litert_card, read_onnx_card  # noqa: F401
from zoo.export.endpoints import ExportError
from zoo.files import replace_folder


# -- SavedModel ---------------------------------------------------------------------------------


def write_saved_model(model, folder, endpoints):
    """Writes `model` with `endpoints` (`{name: (fn, input_signature)}`) as a SavedModel."""
    import keras

    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, (fn, signature) in endpoints.items():
        archive.add_endpoint(name, fn, input_signature=signature)
    archive.write_out(str(folder), verbose=False)


def attach_saved_model_card(folder, card):
    assets = Path(folder) / "assets"
    assets.mkdir(exist_ok=True)
    (assets / CARD_FILE).write_text(json.dumps(card, indent=1))


def move_folder_into_place(scratch, path, overwrite):
    """Moves folder `scratch` to `path`; an existing `path` (which `check_out` has found an
    earlier export) is replaced only with `overwrite`: moved aside, swapped, then removed."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) to "
                              "replace it.")
    replace_folder(scratch, path)


# -- LiteRT -----------------------------------------------------------------------------------


def convert_litert(loaded, signature_keys, quantize=None):
    """LiteRT flatbuffer bytes of a loaded SavedModel's signatures, builtin ops only (no
    Flex).

    The signatures are converted as concrete functions (the SavedModel route keeps only the
    default signature when there are several) and then given their own names back.
    """
    import tensorflow as tf

    functions = [loaded.signatures[key] for key in signature_keys]
    converter = tf.lite.TFLiteConverter.from_concrete_functions(functions, loaded)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]       # dynamic-range int8
    try:
        flat = converter.convert()
    except Exception as error:  # the converter raises its own ConverterError types
        lines = str(error).strip().splitlines()
        ops_lines = [line.strip() for line in lines
                     if line.strip().startswith(("TF Select ops:", "Custom ops:"))]
        detail = "; ".join(ops_lines) or next(
            (line.strip()[:300] for line in reversed(lines) if "error" in line.lower()),
            type(error).__name__)
        raise ExportError(f"LiteRT conversion with builtin ops only failed: {detail}. LiteRT "
                          "has no kernel for these ops (Flex would need the TensorFlow "
                          "delegate, which the stand-alone interpreter lacks).") from error
    inputs = {key: set(f.structured_input_signature[1]) for key, f in zip(signature_keys,
                                                                            functions)}
    return _rename_signatures(flat, inputs)


def _rename_signatures(flat, inputs):
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(flat))
    for signature in model.signatureDefs or []:
        names = {t.name.decode() if isinstance(t.name, bytes) else t.name
                 for t in signature.inputs}
        matches = [key for key, wanted in inputs.items() if wanted == names]
        if len(matches) != 1:
            raise ExportError(f"Cannot tell which signature has inputs {sorted(names)}.")
        signature.signatureKey = matches[0]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def attach_litert_card(flatbuffer, card):
    """`flatbuffer` with the card added as metadata entry `zoo_card`."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    buffer = schema.BufferT()
    buffer.data = list(json.dumps(card).encode("utf-8"))
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = CARD_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if m.name != CARD_NAME.encode()]
    model.metadata.append(entry)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


# -- ONNX -------------------------------------------------------------------------------------


def convert_onnx(fn, signature, opset=17):
    """ONNX `ModelProto` of the tf.function `fn` traced at `signature` (tf2onnx), taking the
    signature's inputs only.

    tf2onnx lists every tensor the traced function captures as a graph input, including
    constants a layer keeps as tensors rather than variables (the mean and variance of a
    `keras.layers.Normalization` built from statistics). Those inputs become initializers
    holding the captured values (or go, where TensorFlow folded their use away); any other
    extra input is refused.
    """
    import tensorflow as tf

    try:
        import tf2onnx
    except ImportError as error:
        raise ImportError("ONNX export needs tf2onnx: pip install 'zoo[export]'.") from error
    function = tf.function(fn)
    concrete = function.get_concrete_function(*signature)
    captured = {inner.name: outer.numpy() for outer, inner in concrete.graph.captures
                if outer.dtype != tf.resource}
    try:
        proto, _ = tf2onnx.convert.from_function(function, input_signature=signature,
                                                 opset=opset)
    except Exception as error:
        raise ExportError(f"ONNX conversion failed: {str(error).strip()[:300]}") from error
    return _captures_as_initializers(proto, [spec.name for spec in signature], captured)


def _names_used(graph):
    """Every tensor name a node of `graph` or of its subgraphs (loop bodies) reads."""
    names = set()
    for node in graph.node:
        names.update(node.input)
        for attribute in node.attribute:
            for sub in [attribute.g, *attribute.graphs]:
                names |= _names_used(sub)
    return names


def _captures_as_initializers(proto, names, captured):
    from onnx import numpy_helper

    graph = proto.graph
    held = {init.name for init in graph.initializer}
    used = _names_used(graph)
    for entry in [entry for entry in graph.input if entry.name not in names]:
        if entry.name in used and entry.name not in held:    # unused: folded away by TF
            if entry.name not in captured:
                raise ExportError(f"The ONNX graph wants an input {entry.name!r} besides "
                                  f"{', '.join(names)}, and it is no captured constant.")
            graph.initializer.append(numpy_helper.from_array(captured[entry.name],
                                                             entry.name))
        graph.input.remove(entry)
    return proto


def attach_onnx_card(proto, card):
    for prop in list(proto.metadata_props):
        if prop.key == CARD_NAME:
            proto.metadata_props.remove(prop)
    entry = proto.metadata_props.add()
    entry.key, entry.value = CARD_NAME, json.dumps(card)
    return proto


