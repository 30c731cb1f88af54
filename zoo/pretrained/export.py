"""Export: a trained model's weights and card into a manifest folder, atomically."""

import importlib.metadata
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from zoo.files import file_lock, write_text
from zoo.pretrained.loading import build_from_card, input_scaling, predict_examples, sha256, weights_target
from zoo.pretrained.manifest import FORMAT, LOCK, MANIFEST, read_manifest, check_tag, validate_manifest
from zoo.registry import factory


def zoo_version():
    """The installed zoo's version, written on cards ("unknown" from a bare source tree)."""
    try:
        return importlib.metadata.version("zoo")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def input_spec(array, dtype=None):
    """A card's description of one example input."""
    if dtype == "string":
        return {"dtype": "string", "value": list(array)}
    array = np.asarray(array)
    return {"dtype": str(array.dtype), "value": array.tolist()}


# -- writing entries --------------------------------------------------------------------------


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
    factory(name)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    file = f"{name}.{tag}.weights.h5"
    # Keras names the format by the suffix, so the file is written whole in a scratch
    # folder beside its place and then moved in one step.
    scratch = tempfile.mkdtemp(dir=out, prefix=".export-")
    try:
        weights_target(model, card_fields).save_weights(os.path.join(scratch, file))
        os.replace(os.path.join(scratch, file), out / file)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    entry = {
        "name": name,
        "tag": tag,
        "file": file,
        "sha256": sha256(out / file),
        "bytes": (out / file).stat().st_size,
        "zoo_version": zoo_version(),
        **card_fields,
    }
    # The outputs the entry gives as `zoo.get(name, weights=tag)` builds it (with the card's
    # input standardisation, when it has one), from the file just written.
    loaded, scaling = model, input_scaling(entry)
    if scaling:
        loaded = build_from_card(entry, {**entry["settings"], **scaling})
        weights_target(loaded, entry).load_weights(str(out / file))
    entry["examples"] = {**entry["examples"],
                         "outputs": predict_examples(loaded, entry).round(6).tolist()}
    manifest = {"format": FORMAT, "entries": {f"{name}.{tag}": entry}}
    validate_manifest(json.loads(json.dumps(manifest)), "the new card")
    # Read-modify-write under a lock, replaced atomically: concurrent exports into one
    # folder each keep their card.
    with file_lock(out / LOCK):
        entries = read_manifest(out)
        entries[f"{name}.{tag}"] = entry
        write_text(out / MANIFEST, json.dumps(
            {"format": FORMAT, "entries": dict(sorted(entries.items()))}, indent=1) + "\n")
    return entry


# -- the README table ---------------------------------------------------------------------------
