"""Recordings in the AVEC 2016 (RECOLA) layout: one feature file and one label file per
recording, a time column, labels at 40 ms.

On disk::

    DIR/features/train_1.csv     frameTime;f0;f1;...        (CSV with ; or , or ARFF)
    DIR/labels/train_1.csv       frameTime;arousal;valence
    DIR/labels/arousal/train_1.arff  (alternative: one folder per dimension, as AVEC ships
                                      its gold standard, the value in the last column)

Recording names start with their partition (`train_`, `dev_`, `test_`), as in AVEC.
"""

import dataclasses
import io
from pathlib import Path

import numpy as np
import pandas as pd

from zoo.data.features import znorm
from zoo.data.sequences import pad
from zoo.files import shown, write_text

TIME_COLUMNS = ("frametime", "time", "timestamp", "frame_time")
#: Longest header or ARFF line read (characters): a header of 6,373 openSMILE ComParE
#: feature names is about 250,000; a longer line is not a feature table.
LINE_LIMIT = 2**20
SUFFIXES = (".csv", ".arff")
DIMENSIONS = ("arousal", "valence")
#: Fewest frames of a recording: CCC and per-recording normalisation need a spread.
MIN_FRAMES = 2


@dataclasses.dataclass
class Corpus:
    """Variable-length recordings with frame-level labels.

    Attributes:
        names: recording names (`train_1`, `dev_3`, ...).
        features: one float32 `(time, input_dim)` array per recording.
        labels: one float32 `(time, outputs)` array per recording, or None.
        dimensions: names of the label columns.
        speakers: a speaker id per recording (default: the recording name).
    """

    names: list
    features: list
    labels: list = None
    dimensions: tuple = DIMENSIONS
    speakers: list = None

    def __post_init__(self):
        if self.speakers is None:
            self.speakers = list(self.names)
        if len(self.features) != len(self.names):
            raise ValueError("One feature array per recording name is needed.")

    def __len__(self):
        return len(self.names)

    @property
    def input_dim(self):
        return self.features[0].shape[-1]

    def subset(self, prefix):
        """The recordings whose name starts with `prefix` (e.g. "train", "dev")."""
        keep = [i for i, n in enumerate(self.names) if n.startswith(prefix)]
        if not keep:
            raise ValueError(
                f"No recording name starts with '{prefix}'. Names: {self.names[:5]}..."
            )
        pick = lambda seq: None if seq is None else [seq[i] for i in keep]  # noqa: E731
        return Corpus(pick(self.names), pick(self.features), pick(self.labels),
                      self.dimensions, pick(self.speakers))

    def znorm(self):
        """A copy with per-speaker z-normalised features."""
        return dataclasses.replace(self, features=znorm(self.features, self.speakers))

    def padded(self, pad_to=None):
        """Zero-padded arrays and the frame mask.

        Returns:
            `(x, y, mask)`: `x` `(n, T, input_dim)`, `y` `(n, T, outputs)` (None without
            labels), `mask` float32 `(n, T)` with 1 on real frames; `T` is the longest
            recording (or `pad_to`). Pass `mask` as `sample_weight` to `fit`/`evaluate`.
        """
        x, mask = pad(self.features, pad_to)
        y = None if self.labels is None else pad(self.labels, x.shape[1])[0]
        return x, y, mask


def _long_line(path, number):
    return ValueError(f"{path}, line {number}: longer than {LINE_LIMIT:,} characters, more "
                      "than any header of features takes; is this a feature table?")


def _read_arff(path):
    names, kinds, lines = [], [], Path(path).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if len(line) > LINE_LIMIT:
            raise _long_line(path, number)
        low = line.strip().lower()
        if low.startswith("@attribute"):
            parts = line.split()
            if len(parts) < 3:
                raise ValueError(f"{path}, line {number}: malformed @attribute line.")
            names.append(parts[1].strip("'\""))
            kinds.append(parts[2].lower())
        elif low.startswith("@data"):
            body = "\n".join(lines[number:])
            frame = pd.read_csv(io.StringIO(body), header=None, names=names, quotechar="'",
                                skip_blank_lines=False, comment="%")
            numeric = [n for n, k in zip(names, kinds) if k in ("numeric", "real", "integer")]
            return frame[numeric], number + 1
    raise ValueError(f"{path}: no @data section; is this an ARFF file?")


def read_table(path):
    """Read one CSV (`,` or `;` separated) or ARFF file into an all-numeric DataFrame.

    Raises:
        ValueError: naming the file, line and column of the first missing or non-numeric
            cell.
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".arff":
            frame, first_line = _read_arff(path)
        else:
            with open(path, encoding="utf-8") as handle:
                header = handle.readline(LINE_LIMIT + 1)
            if len(header) > LINE_LIMIT:
                raise _long_line(path, 1)
            sep = ";" if header.count(";") > header.count(",") else ","
            frame = pd.read_csv(path, sep=sep, skip_blank_lines=False, encoding="utf-8")
            first_line = 2
            frame.columns = [str(c).strip() for c in frame.columns]
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (byte {error.start}).") from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: the file is empty.") from None
    except pd.errors.ParserError as error:  # ragged rows: pandas names the line
        raise ValueError(f"{path}: {shown(' '.join(str(error).split()), 120)}") from None
    if frame.empty:
        raise ValueError(f"{path}: no data rows.")
    for column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna().to_numpy() | ~np.isfinite(values.to_numpy(dtype=float))
        if bad.any():
            row = int(np.argmax(bad))
            cell = frame[column].iloc[row]
            what = "an empty cell" if pd.isna(cell) else f"a non-numeric cell '{shown(cell, 40)}'"
            raise ValueError(
                f"{path}, line {first_line + row}: {what} in column '{shown(column, 40)}'."
            )
        frame[column] = values.astype(np.float64)
    frame.attrs["first_line"] = first_line  # file line of the first row, for messages
    return frame


def _time_column(frame, path):
    for column in frame.columns:
        if column.lower() in TIME_COLUMNS:
            return column
    raise ValueError(
        f"{path}: missing time column (one of {', '.join(TIME_COLUMNS)}); "
        f"columns are {shown(list(frame.columns)[:6], 100)}..."
    )


def _recording_files(folder):
    files, seen = {}, {}
    for entry in sorted(Path(folder).iterdir()):
        if entry.is_file() and entry.suffix.lower() in SUFFIXES:
            key = entry.stem.lower()
            if key in seen:
                raise ValueError(
                    f"{seen[key]} and {entry.name} in {folder} name the same recording "
                    "(names are compared without case, as on many file systems); keep one.")
            seen[key] = entry.name
            files[entry.stem] = entry
    return files


def _label_files(labels_dir, dimensions):
    """Label files by recording: one combined folder listing, and one per dimension."""
    labels_dir = Path(labels_dir)
    per_dim = {
        dim: _recording_files(labels_dir / dim) if (labels_dir / dim).is_dir() else {}
        for dim in dimensions
    }
    return labels_dir, _recording_files(labels_dir), per_dim


def _read_labels(label_files, name, dimensions):
    """`(times, values)` of one recording's labels, from a combined file or per-dim files."""
    labels_dir, combined, per_dim = label_files
    if name in combined:
        path = combined[name]
        frame = read_table(path)
        time = _time_column(frame, path)
        lower = {c.lower(): c for c in frame.columns}
        missing = [d for d in dimensions if d.lower() not in lower]
        if missing:
            raise ValueError(
                f"{path}: missing label column(s) {shown(missing, 60)}; columns are "
                f"{shown(list(frame.columns), 100)}."
            )
        values = frame[[lower[d.lower()] for d in dimensions]].to_numpy(np.float32)
        return frame, values, path
    columns, times = [], None
    for dim in dimensions:
        if name not in per_dim[dim]:
            raise ValueError(
                f"No labels for recording '{name}': expected {labels_dir / name}.csv "
                f"or {labels_dir / dim / name}.csv (or .arff)."
            )
        path = per_dim[dim][name]
        frame = read_table(path)
        time = _time_column(frame, path)
        value_columns = [c for c in frame.columns if c != time]
        if not value_columns:
            raise ValueError(f"{path}: missing label column next to '{shown(time, 40)}'.")
        if times is None:
            times, times_path = frame, path
        if len(frame) != len(times):
            raise ValueError(
                f"{path}: {len(frame)} label frames, but other dimensions of "
                f"'{name}' have {len(times)}."
            )
        columns.append(frame[value_columns[-1]].to_numpy(np.float32))
    return times, np.stack(columns, axis=-1), times_path


def _check_times(times, path, first_line=2):
    steps = np.diff(times)
    if len(steps) and not (steps > 0).all():
        row = int(np.argmax(steps <= 0)) + 1
        raise ValueError(
            f"{path}, line {first_line + row}: time {times[row]:g} does not follow "
            f"{times[row - 1]:g}; times must increase row by row.")


def _align(features, feature_frame, label_frame, feature_path, label_path):
    """The feature frame nearest each label time (identity when the grids agree).

    Raises:
        ValueError: times that do not increase, label times that do not overlap the
            features, or that run more than one feature frame past either end.
    """
    feature_times = feature_frame[_time_column(feature_frame, feature_path)].to_numpy()
    label_times = label_frame[_time_column(label_frame, label_path)].to_numpy()
    _check_times(feature_times, feature_path, feature_frame.attrs.get("first_line", 2))
    _check_times(label_times, label_path, label_frame.attrs.get("first_line", 2))
    if len(feature_times) == len(label_times) and np.allclose(feature_times, label_times):
        return features
    step = float(np.median(np.diff(feature_times))) if len(feature_times) > 1 else 0.0
    first, last = feature_times[0], feature_times[-1]
    if label_times[-1] < first or label_times[0] > last:
        raise ValueError(
            f"{label_path}: labels cover {label_times[0]:g}..{label_times[-1]:g} s but the "
            f"features in {feature_path} cover {first:g}..{last:g} s; the times do not overlap.")
    slack = step * 1.001
    if label_times[-1] > last + slack or label_times[0] < first - slack:
        raise ValueError(
            f"{label_path}: labels cover {label_times[0]:g}..{label_times[-1]:g} s, more than "
            f"one frame ({step:g} s) beyond the features in {feature_path} "
            f"({first:g}..{last:g} s); features or labels are cut short.")
    idx = np.clip(np.searchsorted(feature_times, label_times), 1, len(feature_times) - 1)
    left_closer = (label_times - feature_times[idx - 1]) <= (feature_times[idx] - label_times)
    idx = np.where(left_closer, idx - 1, idx)
    return features[idx]


def iter_avec(directory, dimensions=DIMENSIONS, features="features", labels="labels",
              partitions=()):
    """Reads an AVEC 2016-layout folder one recording at a time (for corpora larger than
    memory; `load_avec` collects them).

    Args:
        partitions: name prefixes that must each start at least one recording's name
            (e.g. `("train", "dev")` for training); checked before any file is read.

    Yields:
        `(name, x, y)`: float32 features aligned to the label times, and labels (None
        without a labels folder); features not normalised.

    Raises:
        ValueError: as `load_avec`, naming the file, line and column; a partition of
            `partitions` without recordings; a recording of fewer than 2 frames or
            without feature columns.
    """
    directory = Path(directory)
    feature_dir, label_dir = directory / features, directory / labels
    if not feature_dir.is_dir():
        raise ValueError(f"{directory}: no '{features}/' folder of feature files.")
    files = _recording_files(feature_dir)
    if not files:
        raise ValueError(f"{feature_dir}: no .csv or .arff files.")
    _check_partitions(feature_dir, list(files), partitions)
    label_files = _label_files(label_dir, dimensions) if label_dir.is_dir() else None
    first = None
    for name, path in files.items():
        frame = read_table(path)
        time = _time_column(frame, path)
        x = frame.drop(columns=[time]).to_numpy(np.float32)
        if not x.shape[1]:
            raise ValueError(f"{path}: no feature columns besides the time column "
                             f"'{shown(time, 40)}'.")
        if first is not None and x.shape[1] != first[1]:
            raise ValueError(
                f"{path}: {x.shape[1]} feature columns, but {first[0]} has {first[1]}."
            )
        first = first or (name, x.shape[1])
        y = None
        if label_files is not None:
            label_frame, y, label_path = _read_labels(label_files, name, dimensions)
            x = _align(x, frame, label_frame, path, label_path)
        if len(x) < MIN_FRAMES:
            where = label_path if y is not None else path
            raise ValueError(f"{where} holds {len(x)} frame(s); a recording needs at least "
                             f"{MIN_FRAMES} (CCC and the per-recording normalisation need a "
                             "spread).")
        yield name, x, y


def _check_partitions(folder, names, partitions):
    for prefix in partitions:
        if not any(name.startswith(f"{prefix}_") for name in names):
            raise ValueError(
                f"{folder}: no {prefix}_ recordings among its {len(names)} "
                f"({shown(', '.join(names[:3]), 60)}{', ...' if len(names) > 3 else ''}); "
                f"training needs {' and '.join(p + '_' for p in partitions)} recordings "
                "(names start with their partition, as in AVEC 2016).")


def load_avec(directory, dimensions=DIMENSIONS, features="features", labels="labels",
              normalize=True, partitions=()):
    """Read every recording of an AVEC 2016-layout folder.

    Args:
        directory: the folder holding `features/` and (optionally) `labels/`.
        dimensions: label columns to read. Default `("arousal", "valence")`.
        features: name of the feature subfolder. Default "features".
        labels: name of the label subfolder. Default "labels"; a missing folder gives a
            corpus without labels (for prediction).
        normalize: per-speaker z-normalisation of the features (each recording is its
            own speaker, as in RECOLA). Default True.
        partitions: as in `iter_avec`: e.g. `("train", "dev")` refuses a folder without
            train_ or dev_ recordings before reading it.

    Returns:
        A `Corpus`, features aligned frame by frame to the label times.
    """
    names, xs, ys = [], [], []
    for name, x, y in iter_avec(directory, dimensions, features, labels, partitions):
        names.append(name)
        xs.append(x)
        ys.append(y)
    corpus = Corpus(names, xs, None if ys[0] is None else ys, tuple(dimensions))
    return corpus.znorm() if normalize else corpus


def save_avec(corpus, directory, frame_s=0.04):
    """Write a corpus as semicolon-separated CSV files in the AVEC layout (atomically)."""
    directory = Path(directory)
    for i, name in enumerate(corpus.names):
        times = np.arange(len(corpus.features[i])) * frame_s
        columns = {"frameTime": times}
        columns.update({f"f{j}": corpus.features[i][:, j] for j in range(corpus.input_dim)})
        write_text(directory / "features" / f"{name}.csv",
                      pd.DataFrame(columns).to_csv(sep=";", index=False, float_format="%.6g"))
        if corpus.labels is not None:
            labels = {"frameTime": times}
            labels.update({d: corpus.labels[i][:, k] for k, d in enumerate(corpus.dimensions)})
            write_text(directory / "labels" / f"{name}.csv",
                          pd.DataFrame(labels).to_csv(sep=";", index=False, float_format="%.6g"))
    return directory
