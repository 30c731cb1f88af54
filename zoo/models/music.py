"""Polyphonic music models: the next piano-roll frame, key by key (Mathews' thesis, 5.2.1).

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
    nll = ops.convert_to_numpy(frame_nll(y, ops.convert_to_tensor(logits)))
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


@register_model(task="rolls")
def music_rnn(input_dim=KEYS, outputs=KEYS, **overrides):
    """Piano-roll model: 1 GRU layer x 64 units, one logit per key for the next frame.

    Train with `keras.losses.BinaryCrossentropy(from_logits=True)` (x 88 = the NLL per time
    step); `cell` takes any zoo cell, `cell_options` its settings (tensor rank, format).
    """
    return SequenceRegressor(input_dim, outputs, **{"cell": "gru", "units": 64, **overrides})


def sample_rolls(model, frames, prime, temperature=1.0, seed=None):
    """New music from a next-frame model: each frame drawn key by key from its predicted
    probabilities, then fed back.

    The model runs over a fixed-length roll, zero after the current frame, so it is traced
    once; that is exact for causal models (a forward recurrent net, an AR model) and
    refused for a bidirectional one, which would see the zeros ahead.

    Args:
        model: a `music_rnn`, `linear_ar` or `feedforward_ar` model over 88 keys.
        frames: frames to draw after the prime.
        prime: `(p, 88)` or `(n, p, 88)` piano roll(s) to start from (p >= 1), e.g. the
            first beats of a held-out chorale; `n` rolls are drawn at once.
        temperature: logits are divided by it (below 1: safer, above 1: wilder).
        seed: seed of the draws.

    Returns:
        `(n, p + frames, 88)` float32 rolls (or `(p + frames, 88)` for one 2-D prime).

    Example:

    ```python
    test = zoo.data.load_chorales("test")
    roll = sample_rolls(model, 32, test.rolls[0][:4], temperature=0.8, seed=0)
    zoo.data.scores.write_roll(roll, "chorale.mid")
    ```
    """
    if getattr(model, "bidirectional", False):
        raise ValueError("A bidirectional model sees the future frames; sampling needs a "
                         "causal one (bidirectional=False).")
    if not isinstance(frames, int) or isinstance(frames, bool) or frames < 1:
        raise ValueError(f"`frames` must be an int >= 1. Received: frames={frames!r}")
    if not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"`temperature` must be > 0. Received: temperature={temperature!r}")
    prime = np.asarray(prime, dtype="float32")
    single = prime.ndim == 2
    rolls = prime[None] if single else prime
    if rolls.ndim != 3 or rolls.shape[1] < 1 or rolls.shape[2] != KEYS:
        raise ValueError(f"`prime` must be (frames >= 1, {KEYS}) or (n, frames >= 1, {KEYS}). "
                         f"Received shape {prime.shape}.")
    if not np.isin(rolls, (0.0, 1.0)).all():
        raise ValueError("`prime` must be a piano roll of 0 and 1 (no NaN, no velocities).")
    rng = np.random.default_rng(seed)
    start = rolls.shape[1]
    out = np.zeros((len(rolls), start + frames, KEYS), "float32")
    out[:, :start] = rolls
    for t in range(start, start + frames):
        logits = ops.convert_to_numpy(model(out[:, :-1], training=False))[:, t - 1]
        p = 1.0 / (1.0 + np.exp(-logits / temperature))
        out[:, t] = rng.random(p.shape) < p
    return out[0] if single else out
