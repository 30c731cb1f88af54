"""Polyphonic music models: the next piano-roll frame, key by key (seed `004_*`, 5.2.1).

A model reads a piano roll `(batch, frames, 88)` and returns one logit per key and frame
for the next frame; the keys are independent given the past (a product of Bernoullis),
and the loss is the negative log-likelihood per time step, summed over the 88 keys, as in
Boulanger-Lewandowski, Bengio, Vincent (ICML 2012). `music_rnn` is a recurrent
regressor over any zoo cell; `zoo.models.autoregressive` holds the memoryless baselines,
and `independent_notes_nll` the baseline that ignores the past altogether.
"""

import numpy as np
from keras import ops

from zoo.models.recurrent import SequenceRegressor
from zoo.registry import register_model

KEYS = 88


def frame_nll(y_true, logits):
    """Binary NLL summed over the keys, per frame: `(batch, frames)` nats."""
    y_true = ops.cast(y_true, logits.dtype)
    per_key = (ops.maximum(logits, 0.0) - logits * y_true
               + ops.log1p(ops.exp(-ops.abs(logits))))
    return ops.sum(per_key, axis=-1)


def nll_per_timestep(model, x, y, mask, batch_size=32):
    """Mean NLL per time step (nats, summed over keys) of `model` over the real frames."""
    mask = np.asarray(mask, dtype="float32")
    if mask.sum() <= 0:
        raise ValueError("`mask` marks no real frame: there is nothing to score.")
    logits = model.predict(x, batch_size=batch_size, verbose=0)
    nll = np.asarray(frame_nll(y, ops.convert_to_tensor(logits)))
    return float((nll * mask).sum() / mask.sum())


def independent_notes_nll(train_rolls, test_rolls):
    """The baseline without memory: each key on with its training frequency, every frame.

    Returns:
        Mean NLL per time step (nats) on `test_rolls`.
    """
    if not len(train_rolls) or not len(test_rolls):
        raise ValueError("`train_rolls` and `test_rolls` must each hold at least one roll.")
    frames = np.concatenate(train_rolls)
    p = np.clip(frames.mean(axis=0), 1e-4, 1 - 1e-4)
    test = np.concatenate(test_rolls)
    return float(-(test * np.log(p) + (1 - test) * np.log(1 - p)).sum(axis=1).mean())


@register_model
def music_rnn(input_dim=KEYS, outputs=KEYS, **overrides):
    """Piano-roll model: 1 GRU layer x 64 units, one logit per key for the next frame.

    Train with `keras.losses.BinaryCrossentropy(from_logits=True)` (x 88 = the NLL per time
    step); `cell` takes any zoo cell, `cell_options` its settings (tensor rank, format).
    """
    return SequenceRegressor(input_dim, outputs, **{"cell": "gru", "units": 64, **overrides})
