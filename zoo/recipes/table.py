"""The table of recipes: which function trains which (model, data), its settings, tag and
licence, and the functions that read it. Re-exported by `zoo.recipes`."""

import importlib
from dataclasses import dataclass


PACKAGE = "zoo.recipes"

@dataclass(frozen=True)
class Recipe:
    """One row of `RECIPES`. The table is data: a recipe's module (and Keras) is imported
    when its `train` or `settings` is first read, so `zoo --help` lists recipes cheaply.

    Attributes:
        where: `"module:function"` in `zoo.recipes` of `train(name, data, seed=0,
            verbose=0[, checkpoint=None])`, which returns `(model, card fields)`.
        tag: the tag of the pretrained entry it makes (`zoo.get(name, weights=tag)`).
        licence: of the data, written on the card.
        table: `"module:TABLE"` or `"module:TABLE:key"`, the settings (model and training)
            `train` uses; None for none.
        resumable: whether `train` checkpoints every epoch and takes `checkpoint=`.
    """

    where: str
    tag: str
    licence: str
    table: str = None
    resumable: bool = False

    @property
    def train(self):
        module, function = self.where.split(":")
        return getattr(importlib.import_module(f"{PACKAGE}.{module}"), function)

    @property
    def settings(self):
        if self.table is None:
            return {}
        module, table, *key = self.table.split(":")
        settings = getattr(importlib.import_module(f"{PACKAGE}.{module}"), table)
        return settings[key[0]] if key else settings


UEA_LICENCE = ("research use, UEA/UCR time-series classification archive (Bagnall et al. 2018, "
               "arXiv:1811.00075)")
LICENCES = {
    "JapaneseVowels": "CC BY 4.0 (UCI repository; Kudo, Toyama, Shimbo 1999)",
    "BasicMotions": UEA_LICENCE,
    "shakespeare": "public domain text (Project Gutenberg, via the shakespeare 0.6 package)",
    "vader_movies": "MIT (vaderSentiment 3.3.2; Hutto & Gilbert 2014)",
    "bach_chorales": ("public domain music (J. S. Bach), encodings from the music21 10.5.1 "
                      "corpus (BSD-3-Clause; Cuthbert & Ariza 2010); see "
                      "zoo/data/bundled/README.md"),
}

#: (model name, data) -> Recipe. `zoo train NAME --data DATA` runs these. The character
#: models, the longest (6 to 17 minutes on 2 cores each), checkpoint every epoch and resume
#: (`zoo train ... --resume`); the others run start to end in a minute or a few.
RECIPES = {
    ("peephole_lstm_classifier", "JapaneseVowels"): Recipe(
        "uea:recipe", "japanese_vowels", LICENCES["JapaneseVowels"], "uea:SETTINGS:JapaneseVowels"),
    ("gru_classifier", "JapaneseVowels"): Recipe(
        "uea:recipe", "japanese_vowels", LICENCES["JapaneseVowels"], "uea:SETTINGS:JapaneseVowels"),
    ("rnnpb", "BasicMotions"): Recipe(
        "motion:recipe", "basic_motions", LICENCES["BasicMotions"], "motion:SETTINGS:BasicMotions"),
    ("char_lm", "shakespeare"): Recipe(
        "texts:char_lm", "shakespeare", LICENCES["shakespeare"], "texts:CHAR_LM", resumable=True),
    ("bilinear_char_lm", "shakespeare"): Recipe(
        "texts:bilinear_char_lm", "shakespeare", LICENCES["shakespeare"], "texts:BILINEAR_CHAR_LM",
        resumable=True),
    ("minilm_valence", "vader_movies"): Recipe(
        "texts:minilm_valence", "vader_movies", LICENCES["vader_movies"], "texts:MINILM_VALENCE"),
    ("music_rnn", "bach_chorales"): Recipe(
        "music:recipe", "bach_chorales", LICENCES["bach_chorales"], "music:SETTINGS"),
}

#: The tag each recipe's entry ships under (a view of `RECIPES`).
TAGS = {key: recipe.tag for key, recipe in RECIPES.items()}


def command(name, data, tag, seed=0, out="pretrained"):
    """The `zoo train` command line a card records for its recipe."""
    return f"zoo train {name} --data {data} --seed {seed} --out {out} --export-pretrained {tag}"


def resumable(name, data):
    """Whether the recipe of `(name, data)` checkpoints every epoch."""
    recipe = RECIPES.get((name, data))
    return recipe is not None and recipe.resumable


def run(name, data, seed=0, verbose=0, checkpoint=None):
    """Runs the recipe of `(name, data)`: `(model, card fields)`, the licence included.

    `checkpoint`: a folder to checkpoint into and continue from, for `resumable` recipes.
    """
    if (name, data) not in RECIPES:
        known = ", ".join(f"{n} --data {d}" for n, d in RECIPES)
        raise ValueError(f"No recipe trains {name} on {data!r}. Recipes: {known}.")
    recipe = RECIPES[(name, data)]
    extra = {"checkpoint": checkpoint} if recipe.resumable else {}
    model, fields = recipe.train(name, data, seed=seed, verbose=verbose, **extra)
    return model, {**fields, "licence": recipe.licence}

