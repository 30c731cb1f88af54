"""The Bach chorales as piano rolls: 348 four-part chorales, quarter-note grid, 88 keys.

Bundled as `bundled/bach_chorales.npz` (41 KB), written once by
`scripts/make_chorales.py` from the corpus that music21 10.5.1 ships: the 371 chorales of
the Riemenschneider numbering, each distinct score once (348; see the script, and
`bundled/README.md` for origin and licence). A roll is `(frames, 88)` float32, 1 where
piano key `k` (MIDI pitch `21 + k`) sounds at that quarter-note beat.

The split is by chorale, seeded: 60% train, 20% validation, 20% test (the proportions of
the JSB Chorales set of Boulanger-Lewandowski et al. 2012, which used other scores and
another split; figures are not comparable one to one).
"""

from dataclasses import dataclass
from importlib import resources

import numpy as np

from zoo.data.sequences import pad

KEYS = 88
LOWEST_PITCH = 21
SPLITS = ("train", "valid", "test", "all")


@dataclass
class Chorales:
    """Piano rolls of some chorales.

    Attributes:
        rolls: list of `(frames, 88)` float32 arrays.
        names: their music21 corpus names (e.g. `"bach/bwv269"`).
    """

    rolls: list
    names: list

    def __len__(self):
        return len(self.rolls)

    def next_step(self):
        """`(x, y, mask)` for next-frame prediction: `x` the rolls without their last frame,
        `y` without their first, end-padded; `mask` `(n, frames)` marks real frames."""
        x, mask = pad([r[:-1] for r in self.rolls])
        y, _ = pad([r[1:] for r in self.rolls])
        return x, y, mask


def load_chorales(split="train", seed=0):
    """The chorales of `split` (`"train"`, `"valid"`, `"test"` or `"all"`).

    Args:
        split: which part; the parts never share a chorale.
        seed: the seed of the split (0 for the figures in the README).

    Returns:
        `Chorales`.
    """
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {', '.join(SPLITS)}. Received: {split!r}")
    with resources.files("zoo.data").joinpath("bundled/bach_chorales.npz").open("rb") as f:
        data = np.load(f, allow_pickle=False)
        packed, lengths, names = data["packed"], data["lengths"], data["names"]
    frames = np.unpackbits(packed, axis=1)[:, :KEYS].astype("float32")
    rolls = np.split(frames, np.cumsum(lengths)[:-1])
    order = np.random.default_rng(seed).permutation(len(rolls))
    n_train, n_valid = int(round(0.6 * len(rolls))), int(round(0.2 * len(rolls)))
    parts = {"train": order[:n_train], "valid": order[n_train:n_train + n_valid],
             "test": order[n_train + n_valid:], "all": np.arange(len(rolls))}
    chosen = sorted(parts[split])
    return Chorales([rolls[i] for i in chosen], [str(names[i]) for i in chosen])
