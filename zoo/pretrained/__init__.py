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
loads, `export.py` writes an entry, `table.py` the README's table. This package uses the
registry (names to factories); the registry never uses it.
"""

from zoo.pretrained import loading, manifest, table
from zoo.pretrained.export import export, input_spec
from zoo.pretrained.loading import (ChecksumError, example_inputs, input_scaling, load,
                                    load_weights, predict_examples, sha256, verified_bytes)
from zoo.pretrained.manifest import (FORMAT, MANIFEST, card, cards, check_tag, format_metrics,
                                     list_pretrained, read_entries, register_directory,
                                     shipped_directory, validate_manifest)
from zoo.pretrained.table import main, readme_table, update_readme

__all__ = ["ChecksumError", "FORMAT", "MANIFEST", "card", "cards", "check_tag", "example_inputs",
           "export", "format_metrics", "input_scaling", "input_spec", "list_pretrained", "load",
           "load_weights", "predict_examples", "read_entries", "readme_table",
           "register_directory", "sha256", "shipped_directory", "update_readme",
           "validate_manifest", "verified_bytes", "loading", "manifest", "table", "main"]
