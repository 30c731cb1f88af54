"""Bundled plain text: five Shakespeare plays for character-level language modelling."""

import gzip
from pathlib import Path

BUNDLED = Path(__file__).parent / "bundled"
#: The bundled plays; the recipes train on the four tragedies and hold out The Tempest.
PLAYS = ("hamlet", "macbeth", "lear", "othello", "tempest")
TRAIN_PLAYS = ("hamlet", "macbeth", "lear", "othello")
TEST_PLAYS = ("tempest",)


def load_play(play):
    """The text of one bundled play (Project Gutenberg edition, plain ASCII)."""
    if play not in PLAYS:
        raise ValueError(f"Unknown play {play!r}. Bundled: {', '.join(PLAYS)}.")
    with gzip.open(BUNDLED / f"shakespeare_{play}.txt.gz", "rt", encoding="ascii") as handle:
        return handle.read()


def load_shakespeare(split="train"):
    """The training plays (`"train"`: Hamlet, Macbeth, King Lear, Othello, joined by a blank
    line) or the held-out play (`"test"`: The Tempest)."""
    plays = {"train": TRAIN_PLAYS, "test": TEST_PLAYS}
    if split not in plays:
        raise ValueError(f"`split` must be 'train' or 'test'. Received: {split!r}")
    return "\n\n".join(load_play(p) for p in plays[split])
