"""What an export runs: its endpoints, each a function and its input signature.

`chain_endpoints` serves any one-input model (`serve`) and, when the model is causal, adds
the streaming `step` (`zoo.export.streaming`). A model with other inputs or other modes
defines `export_endpoints(batch, steps, streaming)` returning the same pair (the RNNPB
does: `serve`, `generate`, `step`, each with its PB input); `export` then uses that.
"""

from zoo.export.streaming import NotCausalError, StepFunction

STEP_ABOUT = ("one frame and the states in (zeros to start); the output for that frame and "
              "the new states (`next_state_i`) out")


class ExportError(ValueError):
    """A model or setting a format cannot take; raised before any file is written."""


def spec_of(spec):
    """A card's description of a `tf.TensorSpec`."""
    return {"shape": [None if d is None else int(d) for d in spec.shape],
            "dtype": spec.dtype.name}


def describe(endpoints, about=None):
    """`{name: {"inputs": {...}}}` for the card, with optional notes per endpoint."""
    about = about or {}
    return {name: {"inputs": {s.name: spec_of(s) for s in signature},
                   **({"about": about[name]} if name in about else {})}
            for name, (_, signature) in endpoints.items()}


def chain_endpoints(model, batch, steps, streaming):
    """`(endpoints, descriptions)` of a one-input model: `serve`, and `step` if causal."""
    import tensorflow as tf

    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ExportError(f"{type(model).__name__} is not a functional model (no `inputs` to "
                          "trace); such a model says what to export through an "
                          "`export_endpoints(batch, steps, streaming)` method.")
    if len(model.inputs) != 1:
        raise ExportError(f"{model.name} takes {len(model.inputs)} inputs; a model with "
                          "several defines `export_endpoints`.")
    input_tensor = model.inputs[0]
    frame_shape, dtype = tuple(input_tensor.shape[2:]), input_tensor.dtype
    if None in frame_shape:
        raise ExportError(f"{model.name}'s frames have an unknown size {frame_shape}.")
    step = None
    if streaming is not False:
        try:
            step = StepFunction(model)
        except NotCausalError:
            if streaming:
                raise
    sequences = tf.TensorSpec((batch, steps, *frame_shape), dtype, name="sequences")

    def serve(sequences):
        return {"output": model(sequences, training=False)}

    endpoints = {"serve": (serve, [sequences])}
    if step is not None:
        frame = tf.TensorSpec((batch, *frame_shape), dtype, name="frame")
        states = [tf.TensorSpec((batch, *shape), "float32", name=f"state_{i}")
                  for i, shape in enumerate(step.state_shapes)]
        def step_fn(frame, *state):
            y, new = step(frame, list(state))
            out = {"output": y}
            out.update({f"next_state_{i}": s for i, s in enumerate(new)})
            return out

        endpoints["step"] = (step_fn, [frame, *states])
    return endpoints, describe(endpoints, {"step": STEP_ABOUT})
