"""Labelled multivariate time series in the `.ts` format of the UEA/UCR archive.

The zoo ships three small sets inside the package (see `zoo/data/bundled/README.md` for
origin and licence): `BasicMotions`, `JapaneseVowels` and `PickupGestureWiimoteZ`.
"""

import gzip
import io
import os
from dataclasses import dataclass
from importlib import resources

import numpy as np

from zoo.files import shown

from zoo.data.sequences import pad

BUNDLED = ("BasicMotions", "JapaneseVowels", "PickupGestureWiimoteZ")


@dataclass
class LabelledSequences:
    """Sequences of possibly different lengths with one class each.

    Attributes:
        sequences: list of float32 arrays `(time_i, channels)`.
        labels: int array `(n,)`, indices into `classes`.
        classes: class names, in the order the file declares them.
        name: the data set's name.
    """

    sequences: list
    labels: np.ndarray
    classes: tuple
    name: str = ""

    def __len__(self):
        return len(self.sequences)

    @property
    def channels(self):
        return self.sequences[0].shape[1]

    @property
    def lengths(self):
        return np.array([len(s) for s in self.sequences])

    def padded(self, length=None, value=0.0):
        """`(x, mask)`: sequences end-padded with `value` to `length` (default: longest)."""
        return pad(self.sequences, length, value, mask_dtype=bool)

    def standardized(self, mean=None, std=None):
        """A copy with every channel scaled to zero mean, unit variance.

        Pass the training split's `(mean, std)` (from `statistics()`) to scale a test split
        the same way.
        """
        if mean is None or std is None:
            mean, std = self.statistics()
        sequences = [((s - mean) / std).astype("float32") for s in self.sequences]
        return LabelledSequences(sequences, self.labels.copy(), self.classes, self.name)

    def statistics(self):
        frames = np.concatenate(self.sequences, 0)
        return frames.mean(0), np.maximum(frames.std(0), 1e-8)


def read_ts(source, name=None):
    """Reads a `.ts` file (plain or gzipped) into `LabelledSequences`.

    Args:
        source: a path, or a text file object.
        name: used in error messages; default the path.

    Raises:
        ValueError: a malformed file, naming the file and line.
    """
    if isinstance(source, (str, os.PathLike)):
        name = name or str(source)
        opener = gzip.open if str(source).endswith(".gz") else open
        try:
            with opener(source, "rt", encoding="utf-8") as handle:
                return read_ts(handle, name)
        except (EOFError, gzip.BadGzipFile, UnicodeDecodeError) as error:
            what = ("is not valid UTF-8 text" if isinstance(error, UnicodeDecodeError)
                    else "is truncated or not gzip data")
            raise ValueError(f"{name} {what} ({shown(error, 80)}).") from None
    name = name or "<stream>"
    classes, problem, in_data = None, "", False
    sequences, labels = [], []
    for number, raw in enumerate(source, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{name}, line {number}"
        if not in_data:
            key, _, rest = line.partition(" ")
            key = key.lower()
            if key == "@problemname":
                problem = rest.strip()
            elif key == "@classlabel":
                parts = rest.split()
                if not parts or parts[0].lower() != "true":
                    raise ValueError(f"{where}: only labelled (@classLabel true) files are supported.")
                classes = tuple(parts[1:])
            elif key == "@data":
                if classes is None:
                    raise ValueError(f"{where}: @data before @classLabel.")
                in_data = True
            continue
        *channels, label = line.split(":")
        if not channels:
            raise ValueError(f"{where}: expected channels separated by ':' and a label.")
        if label not in classes:
            raise ValueError(f"{where}: class '{shown(label, 40)}' is not one of "
                             f"{shown(', '.join(classes), 120)}.")
        try:
            columns = [np.array([float(v) for v in c.split(",")], dtype="float32") for c in channels]
        except ValueError as error:
            raise ValueError(f"{where}: {shown(error, 100)}") from None
        if len({len(c) for c in columns}) != 1:
            lengths = shown([len(c) for c in columns], 80)
            raise ValueError(f"{where}: channels have different lengths {lengths}.")
        if sequences and len(columns) != sequences[0].shape[1]:
            raise ValueError(
                f"{where}: {len(columns)} channels, earlier cases have {sequences[0].shape[1]}."
            )
        sequences.append(np.stack(columns, 1))
        labels.append(classes.index(label))
    if not sequences:
        raise ValueError(f"{name}: no cases after @data.")
    return LabelledSequences(sequences, np.array(labels), classes, problem)


def load_uea(name, split="train"):
    """Loads one split of a data set bundled with the zoo.

    Args:
        name: one of `BasicMotions`, `JapaneseVowels`, `PickupGestureWiimoteZ`.
        split: `"train"` or `"test"`, the archive's own split.

    Example:

    ```python
    train = zoo.data.load_uea("JapaneseVowels", "train")
    x, mask = train.padded()          # (270, 26, 12), (270, 26)
    ```
    """
    if name not in BUNDLED:
        raise ValueError(f"Unknown bundled data set {name!r}. Available: {', '.join(BUNDLED)}.")
    if split not in ("train", "test"):
        raise ValueError(f"`split` must be 'train' or 'test'. Received: {split!r}")
    resource = resources.files("zoo.data").joinpath(f"bundled/{name}_{split.upper()}.ts.gz")
    with resource.open("rb") as raw, io.TextIOWrapper(gzip.GzipFile(fileobj=raw), "utf-8") as text:
        return read_ts(text, f"{name}_{split.upper()}.ts.gz")
