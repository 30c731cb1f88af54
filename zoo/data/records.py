"""What a shard record must hold, checked against the index that describes it.

An index says what its shards hold (kind, frame width, label dimensions, classes,
vocabulary, splits); a record holds its own frames, length, split and label. A careless
or hostile writer can make the two disagree, and `decode_raw` + `reshape` would then read
4-wide frames as 8-wide ones without a word. So:

- at open (`read_index`), the first record of every shard is parsed here and checked
  field by field (cheap: one record a shard);
- while streaming, every record is checked inside the `tf.data` pipeline (`stream_check`:
  a few scalar comparisons a record); the first mismatch stops the stream with an error
  that carries `MARKER`;
- `named_mismatches` turns that error back into a `ShardError` naming the shard, the
  record and the field, by reading the shards here until it meets the record at fault.
"""

import contextlib
import struct
from pathlib import Path

import numpy as np


class ShardError(ValueError):
    """A shard folder that cannot be streamed: missing, empty, mixed, corrupt, or whose
    records disagree with its index."""


#: Carried by the error a `stream` raises when a record disagrees with the index.
MARKER = "zoo-shards: a record disagrees with its index"
#: What TensorFlow's own errors say when a record cannot be parsed at all.
_RECORD_ERRORS = (MARKER, "DecodeRaw", "could not be found", "Could not parse example")
_HEADER = struct.Struct("<QI")  # record length, masked CRC of the length


def iter_raw(path):
    """`(number, bytes)` of every record of a TFRecord file, read without TensorFlow (the
    shard's sha256, checked by `read_index`, guards the bytes; the CRCs are left to
    `tf.data`). A length that runs past the end of the file is refused before it is read."""
    size = Path(path).stat().st_size
    with open(path, "rb") as handle:
        number = 0
        while header := handle.read(_HEADER.size):
            length = _HEADER.unpack(header)[0] if len(header) == _HEADER.size else size
            if length + 4 > size - handle.tell():
                raise ShardError(f"{path}: record {number} is cut short or its length "
                                 "is damaged.")
            data = handle.read(length)
            handle.read(4)  # the CRC of the data
            yield number, data
            number += 1


def _fields(data):
    """The features of one serialized `tf.train.Example` as plain Python values (a value,
    or a list when a feature holds none or several); None where the bytes are not one.

    Read from the protocol-buffer wire format by hand, so that reading an index's first
    records (`zoo data info`) needs no TensorFlow: `Example{features: 1}`,
    `Features{feature: 1 (map entries: key 1, value 2)}`, `Feature{bytes_list: 1,
    float_list: 2, int64_list: 3}`, each list `{value: 1}`, packed or not. As protobuf
    does, a message that occurs twice is merged (parsing the concatenated bytes), the last
    key and the last list kind win, a field of an unexpected wire type is skipped, and a
    map entry holding other fields is left out (tests/data/test_records_wire.py compares
    with protobuf's own parser on valid and damaged records).
    """
    try:
        features = b"".join(value for number, wire, value in _message(data)
                            if number == 1 and wire == 2)
        fields = {}
        for number, wire, entry in _message(features):
            if number != 1 or wire != 2:
                continue
            parts = list(_message(entry))
            if any((part, part_wire) not in ((1, 2), (2, 2)) for part, part_wire, _ in parts):
                continue  # an entry with other fields is kept aside by protobuf, not read
            key = ([value for part, _, value in parts if part == 1] or [b""])[-1]
            feature = b"".join(value for part, _, value in parts if part == 2)
            fields[key.decode("utf-8")] = _feature(feature)
        return fields
    except (ValueError, UnicodeDecodeError):
        return None


#: The wire type of each list of a `tf.train.Feature` when not packed (bytes, float, int64).
_UNPACKED_WIRE = {1: 2, 2: 5, 3: 0}


def _feature(data):
    kind, payloads = None, []
    for number, wire, value in _message(data):
        if number in _UNPACKED_WIRE and wire == 2:
            if number != kind:  # another member of the oneof clears the one before
                kind, payloads = number, []
            payloads.append(value)
    values = []
    for number, wire, value in _message(b"".join(payloads)) if kind else ():
        if number != 1:
            continue
        if wire == _UNPACKED_WIRE[kind]:
            values.append(struct.unpack("<f", value)[0] if kind == 2 else value)
        elif wire == 2 and kind == 2:
            if len(value) % 4:
                raise ValueError("a packed float list of a length not a multiple of 4")
            values.extend(struct.unpack(f"<{len(value) // 4}f", value))
        elif wire == 2 and kind == 3:
            at = 0
            while at < len(value):
                varint, at = _varint(value, at)
                values.append(varint)
    return values[0] if len(values) == 1 else values


def _varint(data, at):
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("a varint runs past its message, or past ten bytes")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if byte < 0x80:
            value &= (1 << 64) - 1
            return (value - (1 << 64) if value >= 1 << 63 else value), at


#: The sizes of the fixed-width wire types (64-bit, 32-bit).
_FIXED = {1: 8, 5: 4}


def _message(data):
    """`(field number, wire type, value)` of each field of a message: an int64 for a
    varint, the raw bytes otherwise."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = (key & 0xFFFFFFFF) >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire == 0:
            value, at = _varint(data, at)
            yield number, wire, value
            continue
        if wire == 2:
            length, at = _varint(data, at)
        elif wire in _FIXED:
            length = _FIXED[wire]
        else:
            raise ValueError(f"wire type {wire} (groups are not part of an Example)")
        if length < 0 or at + length > len(data):
            raise ValueError("a field runs past its message")
        yield number, wire, bytes(data[at:at + length])
        at += length


def _problem(index, shard, fields):
    """Why a record's fields disagree with the index (a short phrase), or None."""
    if fields is None:
        return "not a tf.train.Example"
    kind = index["kind"]
    needed = {"x": bytes, "length": int, "split": bytes,
              **{"frames": {"y": bytes}, "classes": {"label": int}, "tokens": {}}[kind]}
    for key, type_ in needed.items():
        if not isinstance(fields.get(key), type_):
            return f"field '{key}' is missing or not a single {type_.__name__} value"
    split = fields["split"].decode("utf-8", "replace")
    if split not in shard["splits"]:
        return (f"split {split!r}, where the index lists {sorted(shard['splits'])} for "
                "this shard")
    length, values = fields["length"], len(fields["x"]) // 4
    if kind == "tokens":
        if values != index["window"] + 1 or len(fields["x"]) % 4:
            return f"'x' holds {values} ids, where the index's window needs {index['window'] + 1}"
        ids = np.frombuffer(fields["x"], "<i4")
        if ids.min() < 0 or ids.max() > len(index["vocabulary"]):
            return (f"'x' holds the id {ids.min() if ids.min() < 0 else ids.max()}, outside "
                    f"the index's vocabulary of {len(index['vocabulary'])} (and 0, unknown)")
        return None
    if length < 1:
        return f"'length' is {length}; a record holds at least 1 frame"
    if len(fields["x"]) % 4 or values != length * index["input_dim"]:
        return (f"'x' holds {values} values, not 'length' {length} x 'input_dim' "
                f"{index['input_dim']} of the index")
    if kind == "frames":
        outputs = len(index["dimensions"])
        if len(fields["y"]) // 4 != length * outputs or len(fields["y"]) % 4:
            return (f"'y' holds {len(fields['y']) // 4} values, not 'length' {length} x "
                    f"{outputs} 'dimensions' of the index")
    elif not 0 <= fields["label"] < len(index["classes"]):
        return (f"'label' is {fields['label']}, outside the index's {len(index['classes'])} "
                "classes")
    return None


def _name(fields):
    name = (fields or {}).get("name")
    return f" ({name.decode('utf-8', 'replace')[:60]!r})" if isinstance(name, bytes) else ""


def check_first_records(folder, index):
    """The first record of every shard against the index; a `ShardError` naming shard,
    record and field at the first disagreement."""
    if error := find_mismatch(folder, index, first_only=True):
        raise error


def find_mismatch(folder, index, first_only=False):
    """The `ShardError` of the first record, in shard order, that disagrees with the
    index (of the first record of each shard, with `first_only`); None when all agree."""
    for shard in index["shards"]:
        path = Path(folder) / shard["file"]
        count = 0
        for number, data in iter_raw(path):
            fields = _fields(data)
            if problem := _problem(index, shard, fields):
                return ShardError(f"{path}, record {number}{_name(fields)}: {problem}. The "
                                  "index does not describe its shards; pack again.")
            count += 1
            if first_only:
                break
        if not first_only and count != shard["records"]:
            return ShardError(f"{path}: {count} records where the index says "
                              f"{shard['records']}; pack again.")
    return None


@contextlib.contextmanager
def named_mismatches(folder, index):
    """Turns the error of a stream stopped by `stream_check` into the `ShardError` that
    names the shard, record and field (wrap `fit` or a loop over `stream` in it)."""
    try:
        yield
    except Exception as error:
        text = str(error)
        if not any(hint in text for hint in _RECORD_ERRORS):
            raise
        mismatch = find_mismatch(folder, index)
        if mismatch is None and MARKER not in text:
            raise
        raise (mismatch or ShardError(
            f"{folder}: {MARKER} while streaming, but every record agrees when read again; "
            "was the folder changed during training?")) from None


def stream_check(index, splits):
    """A function of a parsed record's `(split, x values, length, y values or label)` that
    stops the stream at a record disagreeing with the index (`MARKER` in the error): the
    same checks as at open, on every record, as a few scalar tensor comparisons."""
    import tensorflow as tf

    kind = index["kind"]
    allowed = tf.constant(sorted(splits))
    channels = index["input_dim"]
    outputs = len(index.get("dimensions", ()))
    classes = len(index.get("classes", ()))

    def check(split, x, length, extra):
        n = tf.shape(x, out_type=tf.int64)[0]
        ok = tf.reduce_any(tf.equal(split, allowed))
        if kind == "tokens":
            ok = ok & tf.equal(n, index["window"] + 1) & (tf.reduce_min(x) >= 0) & (
                tf.reduce_max(x) <= len(index["vocabulary"]))
        else:
            ok = ok & (length >= 1) & tf.equal(n, length * channels)
            if kind == "frames":
                ok = ok & tf.equal(tf.shape(extra, out_type=tf.int64)[0], length * outputs)
            else:
                ok = ok & (extra >= 0) & (extra < classes)
        return tf.debugging.Assert(ok, [MARKER])

    return check
