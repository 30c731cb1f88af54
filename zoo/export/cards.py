"""Reading the card an export carries, without TensorFlow (`zoo info FILE.tflite` answers
at once).

A `.tflite` file is a FlatBuffer of LiteRT's `Model` table (tensorflow/lite/schema/
schema.fbs); zoo's card is its metadata entry named `zoo_card`, whose buffer holds the
card's JSON. `litert_metadata` walks only the fields on that path, checking every offset
against the file's size, so a damaged or hostile file reads as "no card", never as an
out-of-range read:

- `Model`: field 4 `buffers` (vector of `Buffer` tables), field 6 `metadata` (vector of
  `Metadata` tables);
- `Metadata`: field 0 `name` (string), field 1 `buffer` (uint32 index into `buffers`);
- `Buffer`: field 0 `data` (vector of bytes), or fields 1 `offset` and 2 `size` (uint64)
  for data stored after the FlatBuffer, from the start of the file (models over 2 GB).
"""

import struct
from pathlib import Path

from zoo.files import parse_json, read_json

CARD_NAME = "zoo_card"
CARD_FILE = "zoo_card.json"

_MODEL_BUFFERS, _MODEL_METADATA = 4, 6
_METADATA_NAME, _METADATA_BUFFER = 0, 1
_BUFFER_DATA, _BUFFER_OFFSET, _BUFFER_SIZE = 0, 1, 2


class _Damaged(Exception):
    """An offset of the FlatBuffer points outside it."""


class _FlatBuffer:
    def __init__(self, data):
        self.data = memoryview(data)

    def _unpack(self, fmt, at):
        size = struct.calcsize(fmt)
        if at < 0 or at + size > len(self.data):
            raise _Damaged(at)
        return struct.unpack_from(fmt, self.data, at)[0]

    def root(self):
        return self._unpack("<I", 0)

    def field(self, table, index):
        """Where field `index` of the table at `table` lies, or None when it is absent."""
        vtable = table - self._unpack("<i", table)
        vtable_size = self._unpack("<H", vtable)
        slot = 4 + 2 * index
        if slot + 2 > vtable_size:
            return None
        offset = self._unpack("<H", vtable + slot)
        return table + offset if offset else None

    def indirect(self, at):
        return at + self._unpack("<I", at)

    def vector(self, at):
        """`(start, length)` of the vector the field at `at` refers to."""
        start = self.indirect(at)
        return start + 4, self._unpack("<I", start)

    def tables(self, at):
        start, length = self.vector(at)
        return [self.indirect(start + 4 * i) for i in range(length)]

    def bytes(self, at):
        start, length = self.vector(at)
        if start + length > len(self.data):
            raise _Damaged(start)
        return bytes(self.data[start:start + length])

    def scalar(self, table, index, fmt, default=0):
        at = self.field(table, index)
        return default if at is None else self._unpack(fmt, at)


def litert_metadata(data, name):
    """The bytes of metadata entry `name` of the `.tflite` FlatBuffer `data`, or None when
    it has none, or is not a FlatBuffer (or a damaged one)."""
    buffer = _FlatBuffer(data)
    try:
        model = buffer.root()
        metadata = buffer.field(model, _MODEL_METADATA)
        buffers = buffer.field(model, _MODEL_BUFFERS)
        if metadata is None or buffers is None:
            return None
        for entry in buffer.tables(metadata):
            label = buffer.field(entry, _METADATA_NAME)
            if label is None or buffer.bytes(label) != name.encode():
                continue
            index = buffer.scalar(entry, _METADATA_BUFFER, "<I")
            tables = buffer.tables(buffers)
            if index >= len(tables):
                return None
            held = tables[index]
            inline = buffer.field(held, _BUFFER_DATA)
            if inline is not None:
                return buffer.bytes(inline)
            offset = buffer.scalar(held, _BUFFER_OFFSET, "<Q")
            size = buffer.scalar(held, _BUFFER_SIZE, "<Q")
            if offset <= 1 or offset + size > len(data):  # 0 and 1 mean "no data"
                return None
            return bytes(data[offset:offset + size])
    except _Damaged:
        return None
    return None


def read_litert_card(data):
    """The zoo card of a `.tflite` file's bytes, or None when it carries none."""
    raw = litert_metadata(data, CARD_NAME)
    return None if raw is None else parse_json(raw, "the LiteRT card")


def read_card(path):
    """The card an export carries: a SavedModel folder, a `.tflite` or an `.onnx` file.

    Only the `.onnx` case imports a library (onnx); none imports TensorFlow.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: `path` is not an export of zoo's (no card).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No such export: {path}")
    card = None
    if path.is_dir():
        file = path / "assets" / CARD_FILE
        card = read_json(file) if file.is_file() else None
    elif path.suffix == ".tflite":
        card = read_litert_card(path.read_bytes())
    elif path.suffix == ".onnx":
        card = read_onnx_card(path)
    if card is None:
        raise ValueError(f"{path} carries no zoo card: not a SavedModel folder, .tflite or "
                         ".onnx file written by zoo export.")
    return card


def read_onnx_card(path):
    """The zoo card in an `.onnx` file's metadata, or None when it carries none."""
    try:
        import onnx
    except ImportError as error:
        raise ImportError("Reading an ONNX card needs onnx: pip install 'zoo[export]'.") from error

    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception:  # not an ONNX graph
        return None
    for prop in proto.metadata_props:
        if prop.key == CARD_NAME:
            return parse_json(prop.value, f"{path}: the ONNX card")
    return None


__all__ = ["CARD_NAME", "CARD_FILE", "litert_metadata", "read_litert_card", "read_card",
           "read_onnx_card"]
