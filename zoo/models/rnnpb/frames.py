"""The RNNPB's frame transform: channels <-> the features the network reads.

Frames are optionally compressed (`asinh(x / s)`), standardised per channel with the
training data's statistics and optionally projected on principal components. The model
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


def fit_statistics(sequences, compress=None, pca_components=None):
    """`(mean, scale, components)` of the training frames, float32 NumPy arrays.

    `components` is `(channels, pca_components)`, or None without PCA (the model keeps
    its identity matrix). A channel that never varies gets scale 1.
    """
    frames = np.concatenate(sequences, axis=0).astype("float32")
    if compress is not None:
        frames = np.arcsinh(frames / np.float32(compress))
    frames = frames.astype("float64")
    mean = frames.mean(axis=0)
    scale = frames.std(axis=0)
    scale = np.where(scale > 1e-8, scale, 1.0)
    components = None
    if pca_components:
        z = (frames - mean) / scale
        _, _, vt = np.linalg.svd(z - z.mean(axis=0), full_matrices=False)
        components = vt[:pca_components].T.astype("float32")
    return mean.astype("float32"), scale.astype("float32"), components
