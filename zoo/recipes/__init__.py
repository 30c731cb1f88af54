"""How every model in the zoo is trained: one table of recipes, one way to run them.

A recipe trains a registered model on one data source with fixed settings and a seed,
scores it on the held-out split, and returns the card fields that
`zoo.pretrained.export` writes. `RECIPES` is the table, keyed by (model name, data):
each entry holds the tag its pretrained entry ships under, the data's licence, the
settings (model and training) and the function that trains. `zoo train NAME --data DATA
--out DIR --export-pretrained TAG` runs one; the card records that command, so every
number on a card can be re-created. `--set`, `--epochs` and `--lr` are refused for a
recipe: its settings are what the card says.

One module per data source holds the training code and its settings:
`uea` (classifiers on bundled UEA sets), `motion` (the RNNPB on bundled motion sets),
`texts` (the Shakespeare character model, the VADER valence head), `avec` (emotion
regressors on AVEC-layout corpora, any data a user brings), `music` (next-frame models on
the bundled Bach chorales), and the memory tasks that probe a cell: `adding`, `binding`,
`digits`. `runs` keeps long work safe: staged run folders, epoch checkpoints, resumption.
`training` holds `Training`, one run of a model on data with settings of the caller's
own: what `zoo train` checks once and hands to `avec`, `uea` or `shards`.
"""

from zoo._lazy import attach as _attach
from zoo.recipes.table import LICENCES, RECIPES, TAGS, Recipe, command, resumable, run

__getattr__, __dir__, _modules = _attach(__name__, {
    module: module for module in ("adding", "avec", "binding", "cards", "digits", "motion",
                                  "music", "runs", "shards", "texts", "training", "uea")})

__all__ = [*_modules, "Recipe", "RECIPES", "TAGS", "LICENCES", "command", "resumable", "run"]
