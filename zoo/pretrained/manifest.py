"""Manifests: where entries are found, what a valid card holds, and reading them.

The shipped manifest lives in the repository's `pretrained/` folder and installs with the
package (as `zoo._pretrained`). `register_directory(path)` (or the `ZOO_PRETRAINED`
environment variable, folders separated by `os.pathsep`) adds manifests of your own. A
manifest is checked whole when read; a bad folder of the user's is skipped with a warning
and never breaks the shipped entries.
"""

import fnmatch
import math
import os
import warnings
from pathlib import Path

from zoo.files import read_json


MANIFEST = "manifest.json"

LOCK = ".manifest.lock"

FORMAT = 1

#: The fields of a card and their types; `examples` must hold `inputs`.
REQUIRED_FIELDS = {"name": str, "tag": str, "file": str, "sha256": str, "bytes": int,
                   "settings": dict, "dataset": str, "split": str, "metrics": dict,
                   "licence": str, "recipe": str, "examples": dict}

OPTIONAL_FIELDS = {"tolerance": dict, "build": list, "part": str, "head": list,
                   "head_settings": list, "requires": dict, "preprocessing": dict,
                   "notes": str, "checks": dict, "zoo_version": str}

#: Settings that can differ from a card's without touching its weights.
FREE_SETTINGS = ("dropout", "recurrent_dropout", "head_dropout", "name", "trainable")

_EXTRA_DIRECTORIES = []


def shipped_directory():
    """The folder of the manifest that ships with the package."""
    here = Path(__file__).resolve().parents[1]  # the zoo package folder
    installed = here / "_pretrained"
    return installed if (installed / MANIFEST).is_file() else here.parent / "pretrained"


def register_directory(path):
    """Adds the manifest in folder `path` to the entries `zoo.get(..., weights=)` finds.

    Its entries are checked exactly as the shipped ones are; a `name.tag` that is already
    known raises an error instead of shadowing it.
    """
    path = Path(path).resolve()
    if not (path / MANIFEST).is_file():
        raise ValueError(f"No {MANIFEST} in {path}; `zoo train --export-pretrained` writes one.")
    if path not in _EXTRA_DIRECTORIES:
        clash = set(read_manifest(path)) & set(_entries())  # validates the whole manifest
        if clash:
            raise ValueError(f"{path} repeats entries that are already known: {sorted(clash)}")
        _EXTRA_DIRECTORIES.append(path)


def _type_name(kind):
    return {str: "a string", int: "an integer", dict: "an object", list: "a list"}[kind]


def validate_manifest(manifest, path):
    """The entries of a parsed manifest, after checking every card's fields and types.

    Raises:
        ValueError: naming the file, the entry and the field.
    """
    if not isinstance(manifest, dict):
        raise ValueError(f"{path}: a manifest is a JSON object with `format` and `entries`.")
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{path}: unknown manifest format {manifest.get('format')!r} "
                         f"(this zoo reads format {FORMAT}).")
    entries = manifest.get("entries")
    if not isinstance(entries, dict):
        raise ValueError(f"{path}: `entries` must be an object of name.tag -> card. "
                         f"Received {type(entries).__name__}.")
    for key, entry in entries.items():
        where = f"{path}: entry {key!r}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be an object (a card). Received "
                             f"{type(entry).__name__}.")
        for field, kind in {**REQUIRED_FIELDS, **OPTIONAL_FIELDS}.items():
            if field not in entry:
                if field in REQUIRED_FIELDS:
                    raise ValueError(f"{where}: missing field '{field}'.")
                continue
            value = entry[field]
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ValueError(f"{where}: field '{field}' must be {_type_name(kind)}. "
                                 f"Received {value!r}.")
        if key != f"{entry['name']}.{entry['tag']}":
            raise ValueError(f"{where}: the key must be name.tag, "
                             f"'{entry['name']}.{entry['tag']}'.")
        sha = entry["sha256"]
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise ValueError(f"{where}: field 'sha256' must be 64 lower-case hex digits. "
                             f"Received {sha!r}.")
        if entry["bytes"] < 0:
            raise ValueError(f"{where}: field 'bytes' must be >= 0. Received {entry['bytes']}.")
        for metric, value in entry["metrics"].items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or (
                    not math.isfinite(value)):
                raise ValueError(f"{where}: metric '{metric}' must be a finite number. "
                                 f"Received {value!r}.")
        if "inputs" not in entry["examples"]:
            raise ValueError(f"{where}: field 'examples' must hold 'inputs'.")
    return entries


def _directories():
    folders = [shipped_directory(), *_EXTRA_DIRECTORIES]
    for item in os.environ.get("ZOO_PRETRAINED", "").split(os.pathsep):
        if item and Path(item).resolve() not in folders:
            folders.append(Path(item).resolve())
    return folders


def read_manifest(folder):
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return {}
    return validate_manifest(read_json(path), path)


def _entries():
    entries = {}
    shipped = shipped_directory()
    for folder in _directories():
        try:
            manifest = read_manifest(folder)
        except ValueError as error:
            if folder == shipped:
                raise
            # A folder of the user's that went bad since it was registered (or one named by
            # ZOO_PRETRAINED) never takes the other folders down with it.
            warnings.warn(f"Pretrained entries of {folder} are skipped: {error}", stacklevel=3)
            continue
        for key, card in manifest.items():
            if key not in entries:
                entries[key] = {**card, "directory": str(folder)}
    return entries


def list_pretrained(pattern="*"):
    """Sorted `name.tag` keys of the known weights matching an fnmatch `pattern`."""
    return sorted(k for k in _entries() if fnmatch.fnmatchcase(k, pattern))


def card(key, entries=None, examples=False):
    """The card of entry `name.tag`, with `directory` the folder of its file.

    Each call reads the manifests afresh, so the card is the caller's own copy. The
    held-out example inputs and outputs (most of a card's size) are left out unless
    `examples=True` (`predict_examples` needs them).
    """
    entries = _entries() if entries is None else entries
    if key not in entries:
        name = key.split(".")[0]
        tags = [k.split(".", 1)[1] for k in entries if k.split(".")[0] == name]
        known = f" Tags of '{name}': {', '.join(tags)}." if tags else (
            f" '{name}' has no pretrained weights; entries: {', '.join(sorted(entries)) or 'none'}."
        )
        raise ValueError(f"Unknown pretrained entry '{key}'.{known}")
    return entries[key] if examples else _without_examples(entries[key])


def _without_examples(entry):
    return {k: v for k, v in entry.items() if k != "examples"}


def cards(name, examples=False):
    """Cards of every tag of model `name` (without examples unless `examples=True`)."""
    entries = _entries()
    return [entries[k] if examples else _without_examples(entries[k])
            for k in sorted(entries) if fnmatch.fnmatchcase(k, f"{name}.*")]


def check_tag(tag):
    """Raises a ValueError unless `tag` is lower-case ASCII letters, digits and `_`."""
    if not isinstance(tag, str) or not tag or not all(
            c in "abcdefghijklmnopqrstuvwxyz0123456789_" for c in tag):
        raise ValueError(f"A tag is lower-case letters, digits and '_'. Received: {tag!r}")


def read_entries(folder):
    """The validated entries of the manifest in `folder` (empty when it has none)."""
    return read_manifest(folder)


def format_metrics(entry):
    parts = []
    for metric, value in entry["metrics"].items():
        tolerance = entry.get("tolerance", {}).get(metric)
        parts.append(f"{metric} {value:.3f}" + (f" (±{tolerance:g})" if tolerance else ""))
    return "; ".join(parts)
