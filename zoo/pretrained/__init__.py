"""Pretrained weights: entries `name.tag`, each a weights file, its sha256 and a card.

A manifest (`manifest.json`) maps `name.tag` to a card: the weights file and its sha256,
the constructor settings, the data set and split, the held-out metrics with the tolerance
the recipe reproduces them to, the data licence, the command that retrains the entry, the
package version, and a few held-out inputs with the outputs the weights give on them.

The shipped manifest lives in the repository's `pretrained/` folder and installs with the
package (as `zoo._pretrained`). `register_directory(path)` (or the `ZOO_PRETRAINED`
environment variable, folders separated by `os.pathsep`) adds manifests of your own, such
as the ones `zoo train ... --export-pretrained TAG` writes.

Loading reads the file once, checks its sha256 against the card before Keras sees a byte,
and loads the verified bytes. Files hold weights only (`.weights.h5`): no code is read from
them, and the architecture comes from the card's settings and the registered factory.
"""

import fnmatch
import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

import zoo
from zoo.files import file_lock, write_text
from zoo.registry import _factory

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


class ChecksumError(ValueError):
    """A weights file does not match the sha256 of its card (corrupted or truncated)."""


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
        clash = set(_read_manifest(path)) & set(_entries())  # validates the whole manifest
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
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ValueError(f"{where}: metric '{metric}' must be a number. "
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


def _read_manifest(folder):
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
    return validate_manifest(manifest, path)


def _entries():
    entries = {}
    shipped = shipped_directory()
    for folder in _directories():
        try:
            manifest = _read_manifest(folder)
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


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified_bytes(key, entry=None):
    """The bytes of entry `key`'s weights file (card `entry`, read if not given), after
    checking size and sha256."""
    entry = card(key) if entry is None else entry
    if Path(entry["file"]).name != entry["file"] or not entry["file"].endswith(".weights.h5"):
        raise ValueError(f"Pretrained '{key}': the card names {entry['file']!r}; a weights file "
                         "is a plain `.weights.h5` name inside the manifest's folder.")
    path = Path(entry["directory"]) / entry["file"]
    if not path.is_file():
        raise ChecksumError(f"Pretrained '{key}': the weights file {path} is missing.")
    data = path.read_bytes()
    if len(data) != entry["bytes"]:
        raise ChecksumError(
            f"Pretrained '{key}': {path} holds {len(data)} bytes, the card says "
            f"{entry['bytes']} (truncated or replaced). Reinstall zoo or rerun the recipe: "
            f"{entry['recipe']}"
        )
    found = hashlib.sha256(data).hexdigest()
    if found != entry["sha256"]:
        raise ChecksumError(
            f"Pretrained '{key}': sha256 of {path} is {found}, the card says "
            f"{entry['sha256']}. The file is corrupted; nothing was loaded."
        )
    return data


def _check_requirements(key, entry):
    for package, version in entry.get("requires", {}).items():
        try:
            found = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            raise ImportError(
                f"Pretrained '{key}' needs {package}=={version}: pip install 'zoo[text]'."
            ) from None
        if found != version:
            raise ImportError(
                f"Pretrained '{key}' was trained with {package}=={version}; {found} is installed."
            )


def _target(model, entry):
    """The model, or its sub-layer whose weights the file holds (`part`)."""
    return model.get_layer(entry["part"]) if entry.get("part") else model


def _load_verified(model, key, entry, data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "verified.weights.h5"
        path.write_bytes(data)
        _target(model, entry).load_weights(str(path))


def _build(entry, settings):
    model = _factory(entry["name"])(**settings)
    if entry.get("build") and not model.built:
        model.build(tuple(entry["build"]))
    return model


def load_weights(model, key):
    """Loads entry `key` into `model`, an architecture that matches the card.

    The checksum is checked first; if anything fails, `model` keeps the weights it had.
    """
    entry = card(key)
    data = verified_bytes(key, entry)
    _check_requirements(key, entry)
    before = [np.array(w) for w in model.weights]
    try:
        _load_verified(model, key, entry, data)
    except Exception as error:
        for variable, value in zip(model.weights, before):
            variable.assign(value)
        raise ValueError(f"Pretrained '{key}' does not fit this model: {error}") from error
    return model


def input_scaling(entry):
    """The card's per-channel input statistics as model settings (`input_mean`,
    `input_std`), so the loaded model standardises raw inputs itself; empty without them."""
    prep = entry.get("preprocessing") or {}
    if "mean" not in prep or "std" not in prep:
        return {}
    return {"input_mean": prep["mean"], "input_std": prep["std"]}


def load(name, tag, **overrides):
    """Builds model `name` with the settings of entry `name.tag` and loads its weights.

    Overrides: the head settings of the card (`head_settings`, e.g. `classes`) rebuild the
    head at random and load everything else; `FREE_SETTINGS` (dropout rates, name) are
    free; any other setting must equal the card's, since the weights were trained with it.
    """
    key = f"{name}.{tag}"
    entry = card(key)
    settings = {**entry["settings"], **input_scaling(entry)}
    head_change = {}
    for option, value in overrides.items():
        if option in entry.get("head_settings", ()) and value != settings.get(option):
            head_change[option] = value
        elif option not in FREE_SETTINGS and settings.get(option, value) != value:
            raise ValueError(
                f"Pretrained '{key}' was trained with {option}={settings.get(option)!r}; "
                f"received {option}={value!r}. Only {', '.join(entry.get('head_settings', ())) or 'no'}"
                f" head settings and {', '.join(FREE_SETTINGS)} may differ."
            )
    data = verified_bytes(key, entry)
    _check_requirements(key, entry)
    source = _build(entry, {**settings, **{k: v for k, v in overrides.items() if k not in head_change}})
    _load_verified(source, key, entry, data)
    if not head_change:
        return source
    model = _build(entry, {**settings, **overrides})
    head = set(entry["head"])
    for layer in model.layers:
        if layer.name in head or not layer.weights:
            continue
        layer.set_weights(source.get_layer(layer.name).get_weights())
    return model


# -- examples: inputs kept with a card, and the outputs the weights give ---------------------
def _to_input(spec):
    if spec["dtype"] == "string":
        import tensorflow as tf

        return tf.constant(spec["value"])
    return np.asarray(spec["value"], dtype=spec["dtype"])


def example_inputs(entry):
    specs = entry["examples"]["inputs"]
    return tuple(_to_input(s) for s in specs) if isinstance(specs, list) else _to_input(specs)


def predict_examples(model, entry):
    """The model's outputs on the card's example inputs, as a float64 array."""
    inputs = example_inputs(entry)
    return np.asarray(model(inputs, training=False), dtype="float64")


def input_spec(array, dtype=None):
    """A card's description of one example input."""
    if dtype == "string":
        return {"dtype": "string", "value": list(array)}
    array = np.asarray(array)
    return {"dtype": str(array.dtype), "value": array.tolist()}


# -- writing entries --------------------------------------------------------------------------
def check_tag(tag):
    """Raises a ValueError unless `tag` is lower-case ASCII letters, digits and `_`."""
    if not isinstance(tag, str) or not tag or not all(
            c in "abcdefghijklmnopqrstuvwxyz0123456789_" for c in tag):
        raise ValueError(f"A tag is lower-case letters, digits and '_'. Received: {tag!r}")


def read_entries(folder):
    """The validated entries of the manifest in `folder` (empty when it has none)."""
    return _read_manifest(folder)


def export(model, name, tag, out, **card_fields):
    """Writes `model`'s weights as entry `name.tag` in folder `out` and adds its card.

    Args:
        model: the trained model (built by the factory `name` with `settings`).
        name, tag: the entry's key is `name.tag`; a tag is lower-case letters, digits, `_`.
        out: folder of the manifest (created if missing). An existing entry of the same key
            is replaced; the manifest and the file are written atomically.
        **card_fields: `settings`, `dataset`, `split`, `metrics`, `tolerance`, `licence`,
            `recipe`, `examples` (`{"inputs": ...}`; outputs are computed here), and
            optionally `build`, `part`, `head`, `head_settings`, `requires`, `preprocessing`,
            `notes`.

    Returns:
        The card.
    """
    check_tag(tag)
    _factory(name)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    file = f"{name}.{tag}.weights.h5"
    # Keras names the format by the suffix, so the file is written whole in a scratch
    # folder beside its place and then moved in one step.
    scratch = tempfile.mkdtemp(dir=out, prefix=".export-")
    try:
        _target(model, card_fields).save_weights(os.path.join(scratch, file))
        os.replace(os.path.join(scratch, file), out / file)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    entry = {
        "name": name,
        "tag": tag,
        "file": file,
        "sha256": sha256(out / file),
        "bytes": (out / file).stat().st_size,
        "zoo_version": zoo.__version__,
        **card_fields,
    }
    # The outputs the entry gives as `zoo.get(name, weights=tag)` builds it (with the card's
    # input standardisation, when it has one), from the file just written.
    loaded, scaling = model, input_scaling(entry)
    if scaling:
        loaded = _build(entry, {**entry["settings"], **scaling})
        _target(loaded, entry).load_weights(str(out / file))
    entry["examples"] = {**entry["examples"],
                         "outputs": predict_examples(loaded, entry).round(6).tolist()}
    manifest = {"format": FORMAT, "entries": {f"{name}.{tag}": entry}}
    validate_manifest(json.loads(json.dumps(manifest)), "the new card")
    # Read-modify-write under a lock, replaced atomically: concurrent exports into one
    # folder each keep their card.
    with file_lock(out / LOCK):
        entries = _read_manifest(out)
        entries[f"{name}.{tag}"] = entry
        write_text(out / MANIFEST, json.dumps(
            {"format": FORMAT, "entries": dict(sorted(entries.items()))}, indent=1) + "\n")
    return entry


# -- the README table ---------------------------------------------------------------------------
README_BEGIN = "<!-- pretrained table: generated by `python -m zoo.pretrained`, do not edit -->"
README_END = "<!-- end of pretrained table -->"


def _format_metrics(entry):
    parts = []
    for metric, value in entry["metrics"].items():
        tolerance = entry.get("tolerance", {}).get(metric)
        parts.append(f"{metric} {value:.3f}" + (f" (±{tolerance:g})" if tolerance else ""))
    return "; ".join(parts)


def readme_table(directory=None):
    """The Markdown table of the entries in `directory` (default: the shipped manifest)."""
    entries = _read_manifest(directory or shipped_directory())
    rows = [
        "| weights | data (held-out split) | score on held-out data | data licence | size |",
        "|---|---|---|---|---|",
    ]
    for key, entry in sorted(entries.items()):
        size = entry["bytes"] / 1e6
        rows.append(
            f"| `{entry['name']}`, `weights=\"{entry['tag']}\"` | {entry['dataset']} "
            f"({entry['split']}) | {_format_metrics(entry)} | {entry['licence']} | {size:.2f} MB |"
        )
    return "\n".join([README_BEGIN, *rows, README_END])


def update_readme(path):
    """Replaces the table between the markers in README `path`; True if it changed."""
    text = Path(path).read_text()
    start, end = text.find(README_BEGIN), text.find(README_END)
    if start < 0 or end < 0:
        raise ValueError(f"{path} lacks the pretrained-table markers.")
    new = text[:start] + readme_table() + text[end + len(README_END):]
    if new != text:
        write_text(path, new)
    return new != text


def main(argv=None):
    """`python -m zoo.pretrained [--readme README.md]`: list entries, or refresh the table."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m zoo.pretrained", description=main.__doc__)
    parser.add_argument("--readme", help="rewrite the table in this README")
    args = parser.parse_args(argv)
    try:
        if args.readme:
            changed = update_readme(args.readme)
            print(f"{args.readme}: table {'updated' if changed else 'already current'}")
        else:
            print(readme_table())
    except (OSError, ValueError) as error:
        print(f"python -m zoo.pretrained: {error}", file=sys.stderr)
        return 2
    return 0

