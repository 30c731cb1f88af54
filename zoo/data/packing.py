"""Writing packed corpora: `pack` turns an AVEC-layout corpus, UEA sequences or a text into
the TFRecord shards and index that `zoo.data.shards.stream` reads (the format is described
there). An AVEC folder is read one recording at a time, so a corpus larger than memory
packs too."""

import itertools
import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from zoo.data.shards import (FORMAT, INDEX, SHARD_BYTES, VERSION, ShardError, _sha256,
                             _shard_name)
from zoo.files import check_out, foreign_names, read_json, replace_folder, write_text


def _split_of(name):
    return name.split("_", 1)[0] if "_" in name else "train"


def _avec_records(folder):
    """An AVEC-layout folder, one recording in memory at a time, each z-normalised with its
    own statistics (as `load_avec` does: each recording is its own speaker)."""
    from zoo.data.avec import DIMENSIONS, iter_avec
    from zoo.data.features import znorm

    # A pack is for training: train_ and dev_ recordings both, checked before any is read.
    recordings = iter_avec(folder, partitions=("train", "dev"))
    name, x, y = next(recordings)
    if y is None:
        raise ShardError(f"{folder}: no labels/ folder; pack labelled recordings.")
    meta = {"kind": "frames", "input_dim": int(x.shape[1]),
            "dimensions": list(DIMENSIONS)}
    records = ((_split_of(n), n, znorm([x])[0], y, None)
               for n, x, y in itertools.chain([(name, x, y)], recordings))
    return "frames", meta, records


#: Share of a text's windows, at its end, kept as the `dev` split.
TEXT_DEV = 0.1


def _text_records(path, window):
    """A UTF-8 text as windows of `window` + 1 character ids (input and next characters);
    ids as `zoo.models.CharLM` numbers them (0 unknown, vocabulary[i] is i + 1). The last
    10% of the windows, a contiguous stretch, are the `dev` split."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ShardError(f"{path}: not UTF-8 text (byte {error.start}).") from None
    if int(window) < 1:
        raise ShardError(f"window must be a positive int. Received: {window!r}")
    count = (len(text) - 1) // window
    if count < 2:
        raise ShardError(f"{path}: {len(text)} characters; windows of {window} need at "
                         f"least {2 * window + 1} (one to train on, one to validate).")
    vocabulary = "".join(sorted(set(text)))
    lookup = {c: i + 1 for i, c in enumerate(vocabulary)}
    ids = np.fromiter((lookup[c] for c in text), dtype="<i4", count=len(text))
    dev_from = count - max(1, int(round(count * TEXT_DEV)))
    meta = {"kind": "tokens", "input_dim": 1, "vocabulary": vocabulary, "window": int(window)}
    records = (("dev" if i >= dev_from else "train", f"window_{i}",
                ids[i * window : (i + 1) * window + 1], None, None) for i in range(count))
    return "tokens", meta, records


def _records_of(source, window=100):
    """`(kind, meta, records)` of a corpus, labelled sequences, or a path naming one."""
    from zoo.data.avec import Corpus
    from zoo.data.uea import BUNDLED, LabelledSequences, load_uea, read_ts

    if isinstance(source, (str, os.PathLike)):
        spec = str(source)
        if spec in BUNDLED:
            train, test = load_uea(spec, "train"), load_uea(spec, "test")
            return _records_of([("train", train), ("test", test)])
        path = Path(spec.split(":", 1)[1] if spec.startswith("avec2016:") else spec)
        if path.is_dir():
            return _avec_records(path)
        if path.is_file() and path.suffix.lower() == ".ts":
            return _records_of([("train", read_ts(path))])
        if path.is_file() and path.suffix.lower() == ".txt":
            return _text_records(path, window)
        raise ShardError(
            f"{spec}: not an AVEC-layout folder, a .ts or .txt file, or a bundled set "
            f"({', '.join(BUNDLED)}).")
    if isinstance(source, Corpus):
        if source.labels is None:
            raise ShardError("The corpus has no labels; pack labelled recordings.")
        meta = {"kind": "frames", "input_dim": int(source.input_dim),
                "dimensions": list(source.dimensions)}
        records = ((_split_of(n), n, x, y, None)
                   for n, x, y in zip(source.names, source.features, source.labels))
        return "frames", meta, records
    if isinstance(source, LabelledSequences):
        source = [("train", source)]
    if isinstance(source, list) and all(isinstance(s, LabelledSequences) for _, s in source):
        first = source[0][1]
        for split, part in source:
            if part.channels != first.channels or tuple(part.classes) != tuple(first.classes):
                raise ShardError(
                    f"The {split} split has {part.channels} channels and classes "
                    f"{list(part.classes)[:5]}; the {source[0][0]} split has "
                    f"{first.channels} and {list(first.classes)[:5]}.")
        meta = {"kind": "classes", "input_dim": int(first.channels),
                "classes": [str(c) for c in first.classes]}
        records = ((split, f"{part.name or split}_{i}", x, None, int(label))
                   for split, part in source
                   for i, (x, label) in enumerate(zip(part.sequences, part.labels)))
        return "classes", meta, records
    raise ShardError(
        "pack takes a zoo.data.Corpus, zoo.data.LabelledSequences, an AVEC-layout folder, a "
        f".ts or .txt file or a bundled set name. Received: {type(source).__name__}")


def _earlier_pack(folder):
    """None when `folder` is a pack holding only its index and shards; else why not."""
    try:
        index = read_json(folder / INDEX)
        shards = [entry["file"] for entry in index["shards"]]
        if index.get("format") != FORMAT or not all(isinstance(f, str) for f in shards):
            raise ValueError
    except (OSError, ValueError, KeyError, TypeError):
        return foreign_names(folder, [INDEX]) or f"no zoo {INDEX}"
    return foreign_names(folder, [INDEX, *shards])


def _check_record(name, x, y):
    """A recording that training could not use is named before it is written."""
    if len(x) == 0:
        raise ShardError(f"recording {name!r} is empty (0 frames).")
    for what, values in (("features", x), ("labels", y)):
        if values is not None and values.dtype.kind == "f" and not np.isfinite(values).all():
            frame = int(np.argwhere(~np.isfinite(values))[0][0])
            raise ShardError(f"recording {name!r}: NaN or inf in its {what} at frame {frame}; "
                             "clean or interpolate it first.")
    if y is not None and len(y) != len(x):
        raise ShardError(f"recording {name!r}: {len(x)} feature frames but {len(y)} label "
                         "frames.")


def _example(split, name, x, y, label):
    import tensorflow as tf

    def bytes_(value):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    def int_(value):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))

    x = np.ascontiguousarray(x, dtype="<i4" if x.dtype.kind in "iu" else "<f4")
    features = {"x": bytes_(x.tobytes()), "length": int_(len(x)),
                "split": bytes_(split.encode()), "name": bytes_(name.encode())}
    if y is not None:
        features["y"] = bytes_(np.ascontiguousarray(y, dtype="<f4").tobytes())
    if label is not None:
        features["label"] = int_(label)
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def pack(source, out, shard_bytes=SHARD_BYTES, overwrite=False, window=100):
    """Writes a labelled corpus into a folder of TFRecord shards and an index.

    The folder is built beside `out` and renamed into place when every shard is written
    and indexed: an interrupted pack leaves nothing that `stream` would read.

    Args:
        source: a `zoo.data.Corpus` (frame labels; split = the recording name's prefix),
            `zoo.data.LabelledSequences` (one class per sequence), a list of
            `(split, LabelledSequences)`, or a path: an AVEC-layout folder (read one
            recording at a time, each z-normalised as `load_avec` does), a `.ts` file,
            a UTF-8 `.txt` file (`kind="tokens"`: windows of character ids for
            `char_lm`, the last 10% of them the `dev` split), or the name of a bundled
            UEA set (both its splits).
        out: the shard folder to create.
        shard_bytes: target size of one shard (default 64 MiB); a recording never spans
            two shards.
        overwrite: replace an earlier pack in `out` (a folder of other files, or one that
            holds the source, is never replaced).
        window: characters per window of a text.

    Returns:
        The index (a dict), also written as `out/index.json`.

    Raises:
        ShardError: an unreadable source, a recording that is empty, holds NaN or inf,
            or whose labels are not as long as its features, or an existing `out` without
            `overwrite` (or that is not a pack, or holds the source).
    """
    import tensorflow as tf

    out = Path(out)
    sources = [source] if isinstance(source, (str, os.PathLike)) else []
    check_out(out, "an earlier pack", _earlier_pack, sources=sources, overwrite=overwrite,
              error=ShardError)
    if int(shard_bytes) <= 0:
        raise ShardError(f"shard_bytes must be positive. Received: {shard_bytes!r}")
    kind, meta, records = _records_of(source, window)
    staging = out.with_name(f".{out.name}.partial-{uuid.uuid4().hex[:8]}")
    staging.mkdir(parents=True)
    try:
        shards, writer, current, writer_bytes = [], None, None, 0

        def close():
            writer.close()
            path = staging / current["file"]
            current.update(bytes=path.stat().st_size, sha256=_sha256(path))
            shards.append(current)

        lengths = []
        for split, name, x, y, label in records:
            x, y = np.asarray(x), None if y is None else np.asarray(y)
            _check_record(name, x, y)
            if writer is None or writer_bytes >= shard_bytes:
                if writer is not None:
                    close()
                current = {"file": _shard_name(len(shards)), "records": 0, "frames": 0,
                           "splits": {}}
                writer = tf.io.TFRecordWriter(str(staging / current["file"]))
                writer_bytes = 0
            record = _example(split, name, x, y, label)
            writer.write(record)
            writer_bytes += len(record)
            current["records"] += 1
            current["frames"] += len(x)
            current["splits"][split] = current["splits"].get(split, 0) + 1
            lengths.append(len(x))
        if writer is None:
            raise ShardError("The source holds no recordings.")
        close()
        index = {"format": FORMAT, "version": VERSION, "pack": uuid.uuid4().hex, **meta,
                 "records": len(lengths), "frames": int(np.sum(lengths)),
                 "length_quantiles": [int(q) for q in np.quantile(lengths, np.linspace(0, 1, 11))],
                 "shards": shards}
        write_text(staging / INDEX, json.dumps(index, indent=1))
        replace_folder(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return index
