"""Bundled plain text: five Shakespeare plays for character-level language modelling."""

import gzip
from pathlib import Path

BUNDLED = Path(__file__).parent / "bundled"
#: The bundled plays (Project Gutenberg editions).
PLAYS = ("hamlet", "macbeth", "lear", "othello", "tempest")
#: Share of each play, from its end, held out as test text.
TEST_SHARE = 0.1


def load_play(play):
    """The text of one bundled play (Project Gutenberg edition, plain ASCII)."""
    if play not in PLAYS:
        raise ValueError(f"Unknown play {play!r}. Bundled: {', '.join(PLAYS)}.")
    with gzip.open(BUNDLED / f"shakespeare_{play}.txt.gz", "rt", encoding="ascii") as handle:
        return handle.read()


def load_shakespeare(split="train"):
    """The first 90% of each bundled play (`"train"`) or the last 10% (`"test"`), cut at a
    line break and joined by blank lines. The test text comes after every training line of
    its play, so no test line is ever seen in training."""
    if split not in ("train", "test"):
        raise ValueError(f"`split` must be 'train' or 'test'. Received: {split!r}")
    parts = []
    for play in PLAYS:
        text = load_play(play)
        cut = text.index("\n", int(len(text) * (1 - TEST_SHARE))) + 1
        parts.append(text[:cut] if split == "train" else text[cut:])
    return "\n\n".join(parts)
