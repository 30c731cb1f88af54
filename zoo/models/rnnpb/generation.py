"""Generation mode of the RNNPB: closed loop from a PB (eq. 11 of Zhong & Yang)."""

import numpy as np
from keras import ops

from zoo import backend

from zoo.data.sequences import as_sequence_list
from zoo.layers import loop
from zoo.validation import check_positive


def generate(model, pb, initial_input, steps):
    """`RNNPB.generate`: see there."""
    check_positive(steps=steps)
    pb = np.asarray(pb, dtype="float32")
    primer = np.asarray(initial_input, dtype="float32")
    if pb.ndim not in (1, 2):
        raise ValueError(f"`pb` must have shape ({model.pb_dim},) or (batch, {model.pb_dim}). "
                         f"Received shape {pb.shape}.")
    if primer.ndim not in (1, 2, 3):
        raise ValueError(f"`initial_input` must be one frame ({model.channels},), a primer "
                         f"(time, {model.channels}) or a batch (batch, time, "
                         f"{model.channels}). Received shape {primer.shape}.")
    single = pb.ndim == 1
    if single:
        pb = pb[None]
    if primer.ndim == 1:
        primer = primer[None]
    if primer.ndim == 2:
        primer = np.repeat(primer[None], len(pb), axis=0)
    model.check_pb(pb, len(primer))
    as_sequence_list(primer, model.channels, min_length=1, name="initial_input")
    z0 = ops.convert_to_numpy(model.to_features(primer))
    cell = model.rnn.cell
    fn = model.compiled_function(("generate", steps), lambda: backend.function(
        model, lambda z0, pb: loop.closed_loop(cell, model.readout, z0, steps,
                                               cell.input_bias(pb))))
    frames = ops.convert_to_numpy(model.to_channels(fn(z0, pb)))
    return frames[0] if single and np.asarray(initial_input).ndim < 3 else frames
