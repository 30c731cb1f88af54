"""Generated recordings in the RECOLA/AVEC 2016 layout, for tests, the demo and benchmarks.

There is no public per-frame arousal/valence corpus to ship (RECOLA needs a licence), so
these recordings are built to have the property the Khorram et al. models exploit: each
target is a slow signal (nearly all power below 0.1 Hz, far under 1 Hz) that every feature
frame reflects only faintly. A single frame carries little information; averaging
evidence over tens of seconds recovers the target. Short-context models therefore score
poorly and long-context models well, as the paper found on RECOLA.

How a recording is made (25 frames per second, 40 ms):
- each dimension's latent `z(t)` is white noise smoothed by a Gaussian of `smooth_s`
  seconds, scaled to unit variance; the label is `0.3 * z(t)` (RECOLA-like amplitude);
- each dimension owns `input_dim // 10` (at least 1) feature channels that carry
  `gain * z(t)` plus Gaussian noise, scaled so the best single-frame estimate of `z` has
  signal-to-noise ratio `frame_snr`; the other channels are noise;
- every channel gets a speaker-specific offset and scale, which per-speaker
  z-normalisation removes.
"""

import numpy as np

from zoo.data.avec import DIMENSIONS, Corpus

FRAME_RATE = 25.0


def _slow_signal(rng, length, smooth_frames):
    width = int(4 * smooth_frames)
    kernel = np.exp(-0.5 * (np.arange(-width, width + 1) / smooth_frames) ** 2)
    noise = rng.standard_normal(length + 2 * width)
    z = np.convolve(noise, kernel / kernel.sum(), mode="valid")[:length]
    return (z - z.mean()) / (z.std() + 1e-12)


def recola_like(train=9, dev=9, test=0, length=7501, input_dim=160, smooth_s=4.0,
                frame_snr=(0.15, 0.1), seed=0, dimensions=DIMENSIONS):
    """Generate a corpus of `train_*`, `dev_*` (and `test_*`) recordings.

    Args:
        train, dev, test: recordings per partition. Defaults 9, 9, 0 (RECOLA: 9/9/9).
        length: frames per recording (7501 = 5 minutes at 40 ms, as in RECOLA), or a
            `(low, high)` range to draw lengths from.
        input_dim: features per frame. Default 160.
        smooth_s: time scale of the targets in seconds. Default 4.
        frame_snr: single-frame signal-to-noise ratio of the evidence, per dimension.
            Default (0.15, 0.1): about 7-10 frames of evidence equal one noise-free frame.
        seed: random seed.
        dimensions: label names. Default `("arousal", "valence")`.

    Returns:
        A `Corpus` with raw (not z-normalised) features; call `.znorm()`.
    """
    outputs = len(dimensions)
    frame_snr = np.broadcast_to(np.asarray(frame_snr, dtype=float), (outputs,))
    per_dim = max(1, input_dim // 10)
    if per_dim * outputs > input_dim:
        raise ValueError(
            f"input_dim={input_dim} is too small for {outputs} label dimensions."
        )
    rng = np.random.default_rng(seed)
    channels = rng.permutation(input_dim)[: per_dim * outputs].reshape(outputs, per_dim)
    gains = rng.choice([-1.0, 1.0], size=(outputs, per_dim)) * rng.uniform(
        0.5, 1.5, size=(outputs, per_dim))
    names, xs, ys = [], [], []
    for part, count in (("train", train), ("dev", dev), ("test", test)):
        for k in range(1, count + 1):
            n = length if np.isscalar(length) else int(rng.integers(*length))
            z = np.stack([_slow_signal(rng, n, smooth_s * FRAME_RATE)
                          for _ in range(outputs)], axis=-1)
            x = rng.standard_normal((n, input_dim))
            for d in range(outputs):
                # Noise on each channel so that the optimal combination of the dimension's
                # channels has SNR frame_snr[d]: sum(g^2) / sigma^2 = snr.
                sigma = np.sqrt(np.sum(gains[d] ** 2) / frame_snr[d])
                x[:, channels[d]] = gains[d] * z[:, d:d + 1] + sigma * x[:, channels[d]]
            offset = rng.normal(0.0, 2.0, size=input_dim)
            scale = rng.uniform(0.5, 2.0, size=input_dim)
            names.append(f"{part}_{k}")
            xs.append((offset + scale * x).astype(np.float32))
            ys.append((0.3 * z).astype(np.float32))
    return Corpus(names, xs, ys, tuple(dimensions))


def adding_problem(batch, length, rng):
    """One batch of the adding problem (Hochreiter & Schmidhuber 1997).

    Each sequence has two channels: values drawn uniformly from [0, 1), and a marker that
    is 1 at two steps, one in each half, and 0 elsewhere. The target is the sum of the two
    marked values. Predicting the mean, 1, scores a mean squared error of 1/6 (about 0.167).

    Returns:
        `(x, y)`: float32 arrays `(batch, length, 2)` and `(batch, 1)`.
    """
    values = rng.random((batch, length)).astype("float32")
    markers = np.zeros((batch, length), dtype="float32")
    rows = np.arange(batch)
    first = rng.integers(0, length // 2, batch)
    second = rng.integers(length // 2, length, batch)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    y = (values[rows, first] + values[rows, second])[:, None]
    return np.stack([values, markers], -1), y


def variable_binding(batch, pairs, symbols, rng):
    """One batch of the variable-binding task (Mathews' tensor-RNN thesis, section 5.1.2).

    A sequence shows `pairs` key/value pairs, a key at even steps and its value at the next
    step, then one of the keys again as a query; the target is the value bound to it. Keys
    differ within a sequence; values may repeat. A model must bind each value to its key
    and keep every binding until the query comes: chance is `1 / symbols`.

    Channels: `symbols` key one-hots, `symbols` value one-hots, and a query flag.

    Returns:
        `(x, y)`: float32 `(batch, 2 * pairs + 1, 2 * symbols + 1)` and int32 `(batch,)`.
    """
    if pairs > symbols:
        raise ValueError(f"`pairs` ({pairs}) cannot exceed `symbols` ({symbols}): keys "
                         "differ within a sequence.")
    keys = np.argsort(rng.random((batch, symbols)), axis=1)[:, :pairs]
    values = rng.integers(0, symbols, (batch, pairs))
    x = np.zeros((batch, 2 * pairs + 1, 2 * symbols + 1), dtype="float32")
    rows = np.arange(batch)[:, None]
    x[rows, 2 * np.arange(pairs), keys] = 1.0
    x[rows, 2 * np.arange(pairs) + 1, symbols + values] = 1.0
    asked = rng.integers(0, pairs, batch)
    x[np.arange(batch), -1, keys[np.arange(batch), asked]] = 1.0
    x[:, -1, -1] = 1.0
    return x, values[np.arange(batch), asked].astype("int32")
