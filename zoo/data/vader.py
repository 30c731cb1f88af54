"""The VADER movie-review snippets: 10,605 sentences with a human valence score."""

import gzip
from dataclasses import dataclass
from importlib import resources

import numpy as np


@dataclass
class ScoredTexts:
    """Texts with one continuous score each.

    Attributes:
        texts: numpy array of str.
        scores: float32 array, the mean human valence rating (-4..4).
    """

    texts: np.ndarray
    scores: np.ndarray

    def __len__(self):
        return len(self.texts)

    def subset(self, index):
        return ScoredTexts(self.texts[index], self.scores[index])

    def split(self, fractions=(0.8, 0.1, 0.1), seed=0):
        """`(train, dev, test)`: a shuffled split by `fractions`, the same for a seed."""
        if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) < 0:
            raise ValueError(f"`fractions` must be three shares summing to 1. Received: {fractions}")
        order = np.random.default_rng(seed).permutation(len(self))
        a = int(round(fractions[0] * len(self)))
        b = a + int(round(fractions[1] * len(self)))
        return self.subset(order[:a]), self.subset(order[a:b]), self.subset(order[b:])


def load_vader_movies():
    """The bundled VADER movie snippets (origin and licence in `zoo/data/bundled/README.md`)."""
    path = resources.files("zoo.data").joinpath("bundled/vader_movie_snippets.tsv.gz")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [line.rstrip("\n").split("\t") for line in handle if line.strip()]
    for number, row in enumerate(rows, 1):
        if len(row) != 3:
            raise ValueError(f"vader_movie_snippets.tsv.gz line {number}: expected 3 fields.")
    return ScoredTexts(np.array([r[2] for r in rows]), np.array([float(r[1]) for r in rows], "float32"))
