"""Export a model to run elsewhere: a SavedModel (servers), LiteRT (phones, watches), ONNX
(other runtimes), each with the model's card and, for causal models, a streaming step.

Every export has the signature `serve`: sequences `(batch, time, ...)` in, `output` out,
what `model.predict` gives. A causal model (`zoo.export.streaming`) also gets `step`:
one `frame` and the states `state_0 ... state_n` in, the `output` for that frame and the
new states out; start from zero states. Run over a sequence frame by frame, `step`
reproduces `serve`.

- `saved_model`: a folder; shapes dynamic unless `batch` / `steps` fix them. The card is
  `assets/zoo_card.json`.
- `litert`: one `.tflite` file with builtin ops only (no Flex delegate), so the stand-alone
  LiteRT interpreter runs it. LiteRT needs static shapes: `batch` (default 1) and `steps`
  (required for a sequence model) are fixed; recurrent loops then convert to LiteRT's own
  `WHILE`. `quantize="float16"` or `"int8"` (dynamic-range weights) shrink it. The card is
  the model's metadata entry `zoo_card`.
- `onnx`: `PATH` holds `serve`; the step, if any, goes to `PATH` with `.step.onnx`. The
  card is each graph's `metadata_props["zoo_card"]`.

Nothing is written until the conversion has succeeded; files and folders are then moved
into place in one step, and an existing one is replaced only with `overwrite=True`.
"""

from zoo._lazy import attach as _attach

#: What `export(format=...)` and `export(quantize=...)` take (data: `zoo export --help`
#: reads them without Keras).
FORMATS = ("saved_model", "litert", "onnx")
QUANTIZE = ("float16", "int8")

__getattr__, __dir__, _names = _attach(__name__, {
    **{module: module for module in ("cards", "endpoints", "formats", "streaming", "writing")},
    **{name: "writing:" + name for name in ("export", "earlier_export")},
    "read_card": "cards:read_card",
    "ExportError": "endpoints:ExportError",
    **{name: "streaming:" + name for name in ("NotCausalError", "StepFunction", "stream")},
})

__all__ = ["export", "read_card", "ExportError", "NotCausalError", "StepFunction", "stream",
           "FORMATS", "QUANTIZE"]
