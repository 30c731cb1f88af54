"""The RNNPB's frame transform: channels <-> the features the network reads.

Frames are optionally compressed (`asinh(x / s)`), standardised per channel with the
training data's statistics (robustly by default: median and interquartile range) and
optionally projected on principal components. The model
runs the transform in `keras.ops` on its own weights; `PBStream` runs the same functions
with NumPy on a snapshot of those weights, because per frame an eager TensorFlow op costs
more than the recognition update itself. One definition serves both: `xp` is the array
namespace (`keras.ops` or `numpy`; both spell these operations alike).
"""

import numpy as np
from keras import ops


def _asinh(x, xp):
    # asinh(x) = sign(x) log(|x| + sqrt(x^2 + 1)), written in ops every runtime has (LiteRT
    # has no Asinh or Sinh kernel); the odd form keeps large negative x exact.
    a = xp.abs(x)
    return xp.sign(x) * xp.log(a + xp.sqrt(a * a + 1.0))


def _sinh(x, xp):
    return (xp.exp(x) - xp.exp(-x)) * 0.5


def to_features(frames, mean, scale, components, compress=None, xp=ops):
    """Compress, standardise and project `(..., channels)` frames."""
    if compress is not None:
        frames = _asinh(frames / compress, xp)
    return xp.matmul((frames - mean) / scale, components)


def to_channels(features, mean, scale, components, compress=None, xp=ops):
    """Inverse of `to_features` (exact without PCA)."""
    frames = xp.matmul(features, xp.transpose(components)) * scale + mean
    return frames if compress is None else _sinh(frames, xp) * compress


#: Amplitude spread (90th over 10th percentile of the training sequences' amplitudes)
#: above which `compress="auto"` compresses: an order of magnitude.
COMPRESS_SPREAD = 10.0


def robust_scale(frames):
    """Per-channel spread of `(n, channels)` frames: the interquartile range / 1.349 (the
    standard deviation of a normal distribution with that IQR); the standard deviation
    where half the frames or more share one value; 1 for a constant channel."""
    frames = np.asarray(frames, "float64")
    q25, q75 = np.percentile(frames, [25, 75], axis=0)
    iqr = (q75 - q25) / 1.349
    std = frames.std(axis=0)
    scale = np.where(iqr > 1e-6 * np.maximum(std, 1e-30), iqr, std)
    return np.where(scale > 1e-8, scale, 1.0)


def amplitude_spread(sequences):
    """`(spread, quiet)`: how far the training sequences' amplitudes spread, and the
    amplitude of the quiet ones.

    A sequence's amplitude is the root mean square over channels of its per-channel
    standard deviation, each channel divided by its pooled `robust_scale` (so units
    cancel); `spread` is the 90th over the 10th percentile of those over the sequences.
    `quiet` is the 10th percentile of the same amplitudes in raw units, the scale below
    which `asinh(x / quiet)` stays linear.
    """
    if len(sequences) < 2:
        return 1.0, None
    pooled = robust_scale(np.concatenate(sequences, axis=0))
    stds = np.stack([np.asarray(s, "float64").std(axis=0) for s in sequences])
    raw = np.sqrt(np.mean(stds**2, axis=1))
    relative = np.sqrt(np.mean((stds / pooled) ** 2, axis=1))
    low, high = np.percentile(relative, [10, 90])
    quiet = float(np.percentile(raw, 10))
    if low <= 0 or quiet <= 0:  # a tenth of the sequences or more are constant
        return float("inf") if high > 0 else 1.0, None
    return float(high / low), quiet


def choose_compress(sequences):
    """`compress="auto"`: the quiet sequences' amplitude when the amplitudes spread by
    `COMPRESS_SPREAD` or more (standing against running), else None."""
    spread, quiet = amplitude_spread(sequences)
    return quiet if spread >= COMPRESS_SPREAD and quiet is not None else None


def fit_statistics(sequences, compress=None, pca_components=None, scaling="robust"):
    """`(mean, scale, components)` of the training frames, float32 NumPy arrays.

    With `scaling="robust"` (default) each channel is centred on its median and divided by
    `robust_scale`; with `"standard"`, its mean and standard deviation. `components` is
    `(channels, pca_components)`, or None without PCA (the model keeps its identity
    matrix). A channel that never varies gets scale 1.
    """
    frames = np.concatenate(sequences, axis=0).astype("float32")
    if compress is not None:
        frames = np.arcsinh(frames / np.float32(compress))
    frames = frames.astype("float64")
    if scaling == "robust":
        mean, scale = np.median(frames, axis=0), robust_scale(frames)
    else:
        mean = frames.mean(axis=0)
        scale = frames.std(axis=0)
        scale = np.where(scale > 1e-8, scale, 1.0)
    components = None
    if pca_components:
        z = (frames - mean) / scale
        _, _, vt = np.linalg.svd(z - z.mean(axis=0), full_matrices=False)
        components = vt[:pca_components].T.astype("float32")
    return mean.astype("float32"), scale.astype("float32"), components
