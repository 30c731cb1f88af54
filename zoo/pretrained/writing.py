"""Export: a trained model's weights and card into a manifest folder, atomically."""

import importlib.metadata
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from zoo.files import file_lock, write_text
from zoo.pretrained.loading import (build_from_card, input_scaling, load_verified,
                                    predict_examples, sha256, verified_bytes, weights_target)
from zoo.pretrained.manifest import (FORMAT, LOCK, MANIFEST, check_tag, read_manifest,
                                     validate_manifest)
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


def export(model, name, tag, out, overwrite=False, **card_fields):
    """Writes `model`'s weights as entry `name.tag` in folder `out` and adds its card.

    The new weights are written under a name no file in `out` has, then checked the way
    `zoo.get(name, weights=tag)` will load them (size and sha256, the card's settings
    built by the factory, the file loaded, the card's example outputs computed from it and
    compared with `model`'s own); only then does the manifest switch to them, in one atomic
    replace, and the old entry's file go. On any failure the old entry loads exactly as
    before and nothing new is left in `out`.

    Args:
        model: the trained model (built by the factory `name` with `settings`).
        name, tag: the entry's key is `name.tag`; a tag is lower-case letters, digits, `_`.
        out: folder of the manifest (created if missing).
        overwrite: replace an existing entry of the same key (refused by default).
        **card_fields: `settings`, `dataset`, `split`, `metrics`, `tolerance`, `licence`,
            `recipe`, `examples` (`{"inputs": ...}`; outputs are computed here), and
            optionally `build`, `part`, `head`, `head_settings`, `requires`, `preprocessing`,
            `notes`.

    Returns:
        The card.

    Raises:
        FileExistsError: `out` already holds `name.tag` and `overwrite` is False.
        ValueError: a bad tag or card, or weights that do not reproduce the model.
    """
    check_tag(tag)
    factory(name)
    out, key = Path(out), f"{name}.{tag}"
    _refuse_existing(out, key, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    # Keras names the format by the suffix, so the file is written whole in a scratch
    # folder beside its place and then moved in one step, under a name no file has.
    scratch = Path(tempfile.mkdtemp(dir=out, prefix=".export-"))
    try:
        new = scratch / "new.weights.h5"
        weights_target(model, card_fields).save_weights(str(new))
        entry = {"name": name, "tag": tag, "file": new.name, "sha256": sha256(new),
                 "bytes": new.stat().st_size, "zoo_version": zoo_version(), **card_fields}
        validate_manifest(json.loads(json.dumps({"format": FORMAT, "entries": {key: entry}})),
                          "the new card")
        outputs = _checked_outputs(model, key, {**entry, "directory": str(scratch)})
        entry["examples"] = {**entry["examples"], "outputs": outputs.round(6).tolist()}
        # Read-modify-write under a lock, replaced atomically: concurrent exports into one
        # folder each keep their card, and the manifest names the old file or the new one,
        # each whole, at every moment.
        with file_lock(out / LOCK):
            entries = read_manifest(out)
            _refuse_existing(out, key, overwrite, entries)
            old = entries.get(key)
            entry["file"] = _free_name(out, name, tag)
            os.replace(new, out / entry["file"])
            entries[key] = entry
            try:
                write_text(out / MANIFEST, json.dumps(
                    {"format": FORMAT, "entries": dict(sorted(entries.items()))}, indent=1) + "\n")
            except BaseException:
                (out / entry["file"]).unlink(missing_ok=True)
                raise
            if old is not None and old["file"] not in {e["file"] for e in entries.values()}:
                (out / old["file"]).unlink(missing_ok=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return entry


def _refuse_existing(out, key, overwrite, entries=None):
    if overwrite:
        return
    entries = read_manifest(out) if entries is None else entries
    if key in entries:
        raise FileExistsError(f"{out} already holds the pretrained entry {key}; pass "
                              "overwrite=True (--overwrite) to replace it.")


def _free_name(out, name, tag):
    """`name.tag.weights.h5`, or `name.tag.N.weights.h5` when a file already has it."""
    candidate, n = f"{name}.{tag}.weights.h5", 0
    while (out / candidate).exists():
        n += 1
        candidate = f"{name}.{tag}.{n}.weights.h5"
    return candidate


def _checked_outputs(model, key, entry):
    """The card's example outputs as `zoo.get` will give them: the file verified, the
    architecture built from the card's settings, the weights loaded from the file. Without
    input standardisation they must equal `model`'s own outputs."""
    data = verified_bytes(key, entry)
    scaling = input_scaling(entry)
    loaded = build_from_card(entry, {**entry["settings"], **scaling})
    load_verified(loaded, entry, data)
    outputs = predict_examples(loaded, entry)
    if not scaling:
        expected = predict_examples(model, entry)
        if outputs.shape != expected.shape or not np.allclose(outputs, expected, atol=1e-5,
                                                              rtol=1e-4):
            raise ValueError(
                f"Pretrained '{key}': the weights file written does not reproduce the model "
                f"(largest difference {np.max(np.abs(outputs - expected)):.3g} on the card's "
                "examples); check `settings` against the model's. Nothing was replaced.")
    return outputs


# -- the README table ---------------------------------------------------------------------------
