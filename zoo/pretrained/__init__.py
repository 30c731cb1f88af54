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

`manifest.py` finds and validates manifests and reads cards, `loading.py` verifies and
loads, `writing.py` writes an entry, `table.py` the README's table. This package uses the
registry (names to factories); the registry never uses it.
"""

from zoo._lazy import attach as _attach

__getattr__, __dir__, __all__ = _attach(__name__, {
    **{module: module for module in ("loading", "manifest", "table", "writing")},
    **{name: "writing:" + name for name in ("export", "input_spec")},
    **{name: "loading:" + name for name in (
        "ChecksumError", "example_inputs", "input_scaling", "load", "load_weights",
        "predict_examples", "sha256", "verified_bytes")},
    **{name: "manifest:" + name for name in (
        "FORMAT", "MANIFEST", "card", "cards", "check_tag", "format_metrics", "list_pretrained",
        "read_entries", "register_directory", "shipped_directory", "validate_manifest")},
    **{name: "table:" + name for name in ("main", "readme_table", "update_readme")},
})
