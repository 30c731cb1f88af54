"""Corpora larger than memory: sharded TFRecord files that `tf.data` streams.

`zoo.data.pack` writes a corpus once into a folder of shards and an index; `stream` reads
it back as a `tf.data.Dataset` that every Keras backend's `fit` takes, without ever holding
the corpus in memory::

    SHARDS/index.json             what the pack holds: kind, sizes, splits, one line per shard
    SHARDS/shard-00000.tfrecord   records of whole recordings, one `tf.train.Example` each
    SHARDS/shard-00001.tfrecord   ...

A record holds one recording: its frames as raw float32 bytes, its length, its split
(`train`, `dev`, `test`: the AVEC name prefix, or the split of a UEA set), its name, and
either frame labels (`kind="frames"`, AVEC-layout corpora, for the regressors) or one
class index (`kind="classes"`, UEA `.ts` sets, for the classifiers); a text packs as
windows of character ids (`kind="tokens"`, for `char_lm`), its vocabulary in the index.
Raw bytes rather than float lists keep parsing to one `decode_raw` per record.

The index carries each shard's size and sha256, so a shard that was cut short, altered, or
copied in from another pack is named before training starts, not found as a CRC error
half-way through an epoch.
"""

import hashlib
import re
from pathlib import Path

import numpy as np

from zoo.data.records import ShardError, check_first_records, stream_check
from zoo.files import read_json


FORMAT = "zoo-shards"
VERSION = 1
INDEX = "index.json"
KINDS = ("frames", "classes", "tokens")
#: Default shard size: large enough for sequential reads, small enough for many workers.
SHARD_BYTES = 64 * 2**20
#: Default memory of `stream`'s shuffle buffer.
SHUFFLE_BYTES = 64 * 2**20


def _shard_name(number):
    return f"shard-{number:05d}.tfrecord"


def _sha256(path, chunk=2**22):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_index(folder, verify=True):
    """The index of a shard folder, after checking that every shard is whole and its own.

    Args:
        verify: True (default) compares each shard's sha256 with the index (about 1 s per
            GB); "size" compares sizes only; False skips the shard checks.

    Raises:
        ShardError: naming the folder or the shard: no index, an index of another format
            or version, whose fields or counts disagree, a shard missing, cut short,
            altered, or not listed in the index (a shard copied in from another pack), or
            whose first record disagrees with the index (its width, length, label
            dimensions, class, split; `zoo.data.records`).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ShardError(f"{folder}: no such shard folder (write one with `zoo data pack`).")
    path = folder / INDEX
    shard_files = sorted(p.name for p in folder.glob("shard-*.tfrecord"))
    if not path.is_file():
        what = f"holds {len(shard_files)} shard files but no {INDEX}" if shard_files else (
            "is empty" if not any(folder.iterdir()) else f"has no {INDEX} and no shards")
        raise ShardError(f"{folder} {what}; write shards with `zoo data pack`.")
    index = read_json(path, error=ShardError)
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise ShardError(f"{path}: not a zoo shard index (no \"format\": \"{FORMAT}\").")
    if index.get("version") != VERSION:
        raise ShardError(
            f"{path}: shards of format version {index.get('version')!r}; this zoo reads "
            f"version {VERSION}. Pack the corpus again with this zoo.")
    _check_index(index, path)
    listed = {s["file"] for s in index["shards"]}
    strays = [name for name in shard_files if name not in listed]
    if strays:
        raise ShardError(
            f"{folder / strays[0]} is not listed in {INDEX} (of pack {index['pack'][:8]}): "
            "shards of different packs are mixed in one folder. Keep one pack per folder.")
    for shard in index["shards"]:
        shard_path = folder / shard["file"]
        if not shard_path.is_file():
            raise ShardError(f"{shard_path}: listed in {INDEX} but missing.")
        if verify and shard_path.stat().st_size != shard["bytes"]:
            raise ShardError(
                f"{shard_path}: {shard_path.stat().st_size} bytes where the index says "
                f"{shard['bytes']}; the shard is cut short or altered. Pack again.")
        if verify is True and _sha256(shard_path) != shard["sha256"]:
            raise ShardError(
                f"{shard_path}: its sha256 differs from the index; the shard is corrupt or "
                "comes from another pack. Pack again.")
    check_first_records(folder, index)
    return index


_SHARD_FILE = re.compile(r"shard-\d{5}\.tfrecord")


def _is_int(value, low=0):
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _check_index(index, path):
    """Refuses an index whose fields are missing or of the wrong type, and shard names that
    are not plain `shard-NNNNN.tfrecord` files of the folder (no path leaves it)."""
    kind = index.get("kind")
    if kind not in KINDS:
        raise ShardError(f"{path}: unknown kind {kind!r}; expected one of {KINDS}.")
    expected = {"pack": str, "records": int, "frames": int, "input_dim": int,
                "length_quantiles": list, "shards": list,
                **{"frames": {"dimensions": list}, "classes": {"classes": list},
                   "tokens": {"vocabulary": str, "window": int}}[kind]}
    for key, kind_of in expected.items():
        value = index.get(key)
        if not isinstance(value, kind_of) or (kind_of is int and not _is_int(value, 1)) or (
                kind_of in (list, str) and not value):
            raise ShardError(f"{path}: \"{key}\" is missing or not a valid "
                             f"{kind_of.__name__}; the index is damaged. Pack again.")
    if not all(_is_int(q, 1) for q in index["length_quantiles"]):
        raise ShardError(f"{path}: \"length_quantiles\" must be positive ints; the index is "
                         "damaged. Pack again.")
    for number, shard in enumerate(index["shards"]):
        ok = (isinstance(shard, dict) and isinstance(shard.get("file"), str)
              and _SHARD_FILE.fullmatch(shard["file"])
              and all(_is_int(shard.get(k)) for k in ("bytes", "records", "frames"))
              and isinstance(shard.get("sha256"), str)
              and isinstance(shard.get("splits"), dict)
              and all(isinstance(k, str) and _is_int(v) for k, v in shard["splits"].items()))
        if not ok:
            raise ShardError(f"{path}: shard entry {number} is damaged (a plain "
                             "shard-NNNNN.tfrecord file with bytes, sha256, records, frames and "
                             "splits is expected). Pack again.")
        if sum(shard["splits"].values()) != shard["records"] or not (
                shard["records"] <= shard["frames"]):
            raise ShardError(f"{path}: shard entry {number} ({shard['file']}) counts "
                             f"{shard['records']} records, {shard['frames']} frames and splits "
                             f"{shard['splits']}, which disagree. Pack again.")
    for key in ("records", "frames"):
        total = sum(shard[key] for shard in index["shards"])
        if total != index[key]:
            raise ShardError(f"{path}: \"{key}\" is {index[key]} but its shards add up to "
                             f"{total}. Pack again.")
    labels = {"frames": "dimensions", "classes": "classes"}.get(kind)
    if labels and not all(isinstance(v, str) for v in index[labels]):
        raise ShardError(f"{path}: \"{labels}\" must be a list of names. Pack again.")


def split_counts(index):
    """Records per split of a pack, e.g. `{"train": 9, "dev": 3}`."""
    counts = {}
    for shard in index["shards"]:
        for split, n in shard["splits"].items():
            counts[split] = counts.get(split, 0) + n
    return counts


def _bucket_boundaries(index, buckets):
    """Upper length limits (exclusive) of the buckets, the last above the longest record."""
    longest = index["length_quantiles"][-1]
    quantiles = np.quantile(index["length_quantiles"], np.linspace(0, 1, buckets + 1)[1:-1])
    return sorted({int(q) + 1 for q in quantiles if q < longest} | {longest + 1})


def stream(folder, split=None, batch_size=32, shuffle=True, shuffle_buffer=None, seed=0,
           buckets=8, pad_to=None, repeat=False, workers=None, verify=True, reads=4,
           drop_remainder=False, check=True):
    """A `tf.data.Dataset` of padded batches read from a shard folder.

    The corpus is never held in memory: shards are read in parallel and interleaved, records
    are shuffled in a bounded buffer, batches gather recordings of similar length (padding
    only to the longest of their bucket, not of the corpus) and are prefetched.

    Args:
        folder: written by `pack` / `zoo data pack`.
        split: keep only records of this split ("train", "dev", "test"); None keeps all.
        batch_size: recordings per batch (per worker when `workers` is given).
        shuffle: shuffle the shard order and the records, reshuffled every epoch, from
            `seed`.
        shuffle_buffer: records held for shuffling; default: as many as fit in
            `SHUFFLE_BYTES` (64 MiB) at the pack's mean record size, at least 4 batches,
            so memory does not grow with the corpus or with the length of its recordings.
        buckets: number of length buckets (boundaries from the pack's length quantiles);
            a batch is padded to its bucket's upper boundary, so a model sees at most
            `buckets` batch shapes (each new shape is a new trace, and an XLA
            compilation, whose cache would otherwise grow with the corpus). 1 pads every
            batch to its own longest recording.
        pad_to: None (default: bucketing as above), an int, or "longest" (the pack's
            longest recording): every batch padded to that many frames (longer
            recordings are cut).
        repeat: repeat forever (pass `steps_per_epoch` to `fit`).
        workers: None, or `(count, index)` for multi-process training, where each process
            feeds its own part of every global batch: every process shuffles the split
            alike (same `seed`) and keeps every `count`-th record from `index`, the same
            number on every process (the remainder is left out), in batches of
            `batch_size` all padded alike (`pad_to`, default "longest"), so every process
            takes the same steps and the global batches are those of `workers=(1, 0)`.
            `zoo.distribute.worker()` gives it for the running process.
        verify: as in `read_index`: True checks every shard's sha256 first.
        reads: shards read in parallel.
        drop_remainder: leave out batches smaller than `batch_size` (each bucket's last
            one): several devices need batches they can split evenly.
        check: check every record against the index as it streams (its width, length,
            label dimensions or class, split; a few scalar comparisons a record). The
            first record that disagrees stops the stream with an error that
            `zoo.data.records.named_mismatches(folder, index)` turns into a `ShardError`
            naming the shard, the record and the field (`zoo train` does).

    Returns:
        For `kind="frames"` packs: `(x, y, mask)` batches, `x` `(batch, time, input_dim)`,
        `y` `(batch, time, outputs)` and the float32 frame mask, which `fit` takes as
        sample weights. For `kind="classes"`: `(x, label)` batches, zero-padded. For
        `kind="tokens"` (a text): `(ids, next_ids)` int32 batches `(batch, window)`.

    Raises:
        ShardError: see `read_index`; a split the pack does not hold.
    """
    import tensorflow as tf

    from zoo.validation import check_positive

    check_positive(batch_size=batch_size, buckets=buckets, reads=reads)
    folder = Path(folder)
    index = read_index(folder, verify=verify)
    shards = index["shards"]
    if split is not None:
        shards = [s for s in shards if s["splits"].get(split)]
        if not shards:
            held = sorted({k for s in index["shards"] for k in s["splits"]})
            raise ShardError(f"{folder} holds no '{split}' records; splits: {held}.")
    files = [str(folder / s["file"]) for s in shards]
    if workers is not None:
        count, worker = (int(v) for v in workers)
        if not 0 <= worker < count:
            raise ShardError(f"workers=(count, index) needs 0 <= index < count. "
                             f"Received: {workers!r}")
        held = split_counts(index)[split] if split else index["records"]
        per_worker = held // count
        if per_worker < batch_size:
            raise ShardError(
                f"{folder}: {held} records{f' of {split!r}' if split else ''} give each of "
                f"{count} workers {per_worker}, fewer than one batch of {batch_size}.")
        pad_to = "longest" if pad_to is None else pad_to
        shuffle_files = False  # every worker sees the records in the same order
    else:
        shuffle_files = shuffle and len(files) > 1
    if shuffle_buffer is None:
        record_bytes = sum(s["bytes"] for s in index["shards"]) / max(index["records"], 1)
        shuffle_buffer = max(4 * batch_size, int(SHUFFLE_BYTES // max(record_bytes, 1)))
    check_positive(shuffle_buffer=shuffle_buffer)
    channels = index["input_dim"]
    frames_kind = index["kind"] == "frames"
    tokens_kind = index["kind"] == "tokens"
    outputs = len(index.get("dimensions", ()))
    spec = {"x": tf.io.FixedLenFeature([], tf.string),
            "split": tf.io.FixedLenFeature([], tf.string),
            "length": tf.io.FixedLenFeature([], tf.int64)}
    if frames_kind:
        spec["y"] = tf.io.FixedLenFeature([], tf.string)
    elif not tokens_kind:
        spec["label"] = tf.io.FixedLenFeature([], tf.int64)

    # Every record is checked against the index before it is shaped (zoo.data.records).
    checks = stream_check(index, {k for s in shards for k in s["splits"]}) if check else None

    def checked(example, values, extra):
        """`values` and `extra` (labels), both available only once the record passed."""
        if checks is None:
            return values, extra
        with tf.control_dependencies([checks(example["split"], values, example["length"],
                                             extra)]):
            return tf.identity(values), tf.identity(extra)

    def parse(record):
        example = tf.io.parse_single_example(record, spec)
        if tokens_kind:  # a window of ids and the next character of each
            ids = tf.io.decode_raw(example["x"], tf.int32)
            ids, _ = checked(example, ids, ids)
            return example["split"], (ids[:-1], ids[1:])
        values = tf.io.decode_raw(example["x"], tf.float32)
        if frames_kind:
            # The frame mask is made per batch from the lengths, not padded per record.
            values, y = checked(example, values, tf.io.decode_raw(example["y"], tf.float32))
            x, y = tf.reshape(values, (-1, channels)), tf.reshape(y, (-1, outputs))
            return example["split"], (x, y, tf.cast(example["length"], tf.int32))
        values, label = checked(example, values, example["label"])
        return example["split"], (tf.reshape(values, (-1, channels)), tf.cast(label, tf.int32))

    data = tf.data.Dataset.from_tensor_slices(files)
    if shuffle_files:
        data = data.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    deterministic = not shuffle or workers is not None
    # Measured on 2 cores: TFRecordDataset's own parallel reads keep 1.5x the frame rate of
    # an AUTOTUNE interleave, whose threads compete with the parse.
    data = tf.data.TFRecordDataset(data, num_parallel_reads=min(reads, len(files)))
    data = data.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    if split is not None and any(len(s["splits"]) > 1 for s in shards):
        wanted = tf.constant(split.encode())
        data = data.filter(lambda s, _: tf.equal(s, wanted))
    data = data.map(lambda _, item: item)
    if workers is not None:
        # Every worker draws the same order (same seed) and keeps its own records of it:
        # the global batches are those of one process reading everything.
        data = data.take(per_worker * count)
        if repeat:
            data = data.repeat()
        if shuffle:
            data = data.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        data = data.shard(count, worker)
    else:
        if shuffle:
            data = data.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        if repeat:
            data = data.repeat()
    shapes = (((None, channels), (None, outputs), ()) if frames_kind else
              ((None,), (None,)) if tokens_kind else ((None, channels), ()))
    if pad_to is not None:
        length = index["length_quantiles"][-1] if pad_to == "longest" else int(pad_to)
        if length < 1:
            raise ShardError(f"pad_to must be 'longest' or a positive int. Received: {pad_to!r}")
        if frames_kind:
            data = data.map(lambda x, y, n: (x[:length], y[:length], tf.minimum(n, length)))
        elif tokens_kind:
            data = data.map(lambda x, y: (x[:length], y[:length]))
        else:
            data = data.map(lambda x, label: (x[:length], label))
        shapes = tuple((length, *s[1:]) if s else s for s in shapes)
    padded = tuple(tf.TensorShape(s) for s in shapes)
    drop = workers is not None or drop_remainder
    bucketed = buckets > 1 and pad_to is None and not tokens_kind  # windows: one length
    boundaries = _bucket_boundaries(index, buckets) if bucketed else []
    if boundaries:
        data = data.bucket_by_sequence_length(
            lambda x, *_: tf.shape(x)[0], boundaries, [batch_size] * (len(boundaries) + 1),
            padded_shapes=padded, drop_remainder=drop, pad_to_bucket_boundary=True)
    else:
        data = data.padded_batch(batch_size, padded_shapes=padded, drop_remainder=drop)
    if frames_kind:
        data = data.map(lambda x, y, n: (x, y, tf.sequence_mask(n, tf.shape(x)[1], tf.float32)))
    # Two batches ahead, not AUTOTUNE: autotuned buffers grow with the run, and memory must
    # not grow with the corpus.
    return data.prefetch(2)


def sizes(index):
    """The model settings a pack fixes (`zoo.registry.SIZES` of its kind): its features
    and outputs, classes or vocabulary."""
    if index["kind"] == "tokens":
        return {"vocabulary": index["vocabulary"]}
    if index["kind"] == "frames":
        return {"input_dim": index["input_dim"], "outputs": len(index["dimensions"])}
    return {"input_dim": index["input_dim"], "classes": len(index["classes"])}


def describe(index):
    """A short human summary of an index."""
    splits = split_counts(index)
    size = sum(s["bytes"] for s in index["shards"]) / 2**20
    what = (f"{index['input_dim']} features -> {', '.join(index['dimensions'])}"
            if index["kind"] == "frames" else
            f"windows of {index['window']} characters, vocabulary of "
            f"{len(index['vocabulary'])}" if index["kind"] == "tokens" else
            f"{index['input_dim']} channels, {len(index['classes'])} classes")
    items, steps = ("windows", "characters") if index["kind"] == "tokens" else (
        "recordings", "frames")
    counts = ", ".join(f"{k} {v}" for k, v in sorted(splits.items()))
    return (f"{index['records']} {items} ({counts}), {index['frames']} {steps}, {what}; "
            f"{len(index['shards'])} shards, {size:.1f} MiB")
