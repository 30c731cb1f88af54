"""Writing packed corpora: `pack` turns an AVEC-layout corpus or UEA sequences into the
TFRecord shards and index that `zoo.data.shards.stream` reads (the format is described
there)."""

import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from zoo.data.shards import (FORMAT, INDEX, SHARD_BYTES, VERSION, ShardError, _sha256,
                             _shard_name)
from zoo.files import write_text


def _records_of(source):
    """`(kind, meta, records)` of a corpus, labelled sequences, or a path naming one."""
    from zoo.data.avec import Corpus, load_avec
    from zoo.data.uea import BUNDLED, LabelledSequences, load_uea, read_ts

    if isinstance(source, (str, os.PathLike)):
        spec = str(source)
        if spec in BUNDLED:
            train, test = load_uea(spec, "train"), load_uea(spec, "test")
            return _records_of([("train", train), ("test", test)])
        path = Path(spec.split(":", 1)[1] if spec.startswith("avec2016:") else spec)
        if path.is_dir():
            return _records_of(load_avec(path))
        if path.is_file() and path.suffix.lower() == ".ts":
            return _records_of([("train", read_ts(path))])
        raise ShardError(
            f"{spec}: not an AVEC-layout folder, a .ts file, or a bundled set "
            f"({', '.join(BUNDLED)}).")
    if isinstance(source, Corpus):
        if source.labels is None:
            raise ShardError("The corpus has no labels; pack labelled recordings.")
        meta = {"kind": "frames", "input_dim": int(source.input_dim),
                "dimensions": list(source.dimensions)}

        def split_of(name):
            return name.split("_", 1)[0] if "_" in name else "train"

        records = ((split_of(n), n, x, y, None)
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
        f".ts file or a bundled set name. Received: {type(source).__name__}")


def _example(split, name, x, y, label):
    import tensorflow as tf

    def bytes_(value):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    def int_(value):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))

    x = np.ascontiguousarray(x, dtype="<f4")
    features = {"x": bytes_(x.tobytes()), "length": int_(len(x)),
                "split": bytes_(split.encode()), "name": bytes_(name.encode())}
    if y is not None:
        features["y"] = bytes_(np.ascontiguousarray(y, dtype="<f4").tobytes())
    if label is not None:
        features["label"] = int_(label)
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def pack(source, out, shard_bytes=SHARD_BYTES, overwrite=False):
    """Writes a labelled corpus into a folder of TFRecord shards and an index.

    The folder is built beside `out` and renamed into place when every shard is written
    and indexed: an interrupted pack leaves nothing that `stream` would read.

    Args:
        source: a `zoo.data.Corpus` (frame labels; split = the recording name's prefix),
            `zoo.data.LabelledSequences` (one class per sequence), a list of
            `(split, LabelledSequences)`, or a path: an AVEC-layout folder (read with
            per-speaker z-normalisation, as `load_avec` does), a `.ts` file, or the name
            of a bundled UEA set (both its splits).
        out: the shard folder to create.
        shard_bytes: target size of one shard (default 64 MiB); a recording never spans
            two shards.
        overwrite: replace an existing non-empty `out`.

    Returns:
        The index (a dict), also written as `out/index.json`.

    Raises:
        ShardError: an unreadable source, or an existing `out` without `overwrite`.
    """
    import tensorflow as tf

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise ShardError(f"{out} already exists and is not empty; pass overwrite=True "
                         "(--overwrite) to replace it.")
    if int(shard_bytes) <= 0:
        raise ShardError(f"shard_bytes must be positive. Received: {shard_bytes!r}")
    kind, meta, records = _records_of(source)
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
        if out.exists():
            trash = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
            out.rename(trash)
            staging.rename(out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return index
