"""Sequential digits: scikit-learn's 8x8 handwritten digits read one pixel at a time.

The "sequential MNIST" task of Mathews' tensor-RNN thesis (section 5.1.3), small: the 1797
8x8 images of the UCI optical-recognition data that scikit-learn bundles
(`sklearn.datasets.load_digits`, read from the installed package, no download). It is named
for what it is: 64-step sequences, not MNIST's 784 (real 28x28 digits:
`zoo.data.load_mnist_sequences`). Pixels are scaled from
0..16 to 0..1 and read row by row; `permuted=True` reads them in one fixed, seeded order
instead, which scatters neighbouring pixels across the sequence (the permuted task of
Le et al. 2015).
"""

import numpy as np

#: Share of the images held out as test images.
TEST_SHARE = 0.2


def load_sequential_digits(split="train", permuted=False, seed=0):
    """Sequences `(n, 64, 1)` float32 in [0, 1] and labels `(n,)` int32 of one split.

    Args:
        split: `"train"` (1438 images) or `"test"` (359), a seeded shuffle of all 1797.
        permuted: read the pixels in a fixed random order (the same for every image).
        seed: seed of the split and of the permutation.

    Example:

    ```python
    x, y = load_sequential_digits("train", permuted=True)   # (1438, 64, 1), (1438,)
    ```
    """
    if split not in ("train", "test"):
        raise ValueError(f"`split` must be 'train' or 'test'. Received: split={split!r}")
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError("Sequential digits read scikit-learn's bundled 8x8 digits: "
                          "pip install 'zoo[tasks]' (scikit-learn).") from error
    digits = load_digits()
    images = (digits.data / 16.0).astype("float32")
    labels = digits.target.astype("int32")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    n_test = int(round(len(images) * TEST_SHARE))
    chosen = order[n_test:] if split == "train" else order[:n_test]
    x = images[chosen]
    if permuted:
        x = x[:, rng.permutation(x.shape[1])]
    return x[..., None], labels[chosen]
