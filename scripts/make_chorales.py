"""Writes zoo/data/bundled/bach_chorales.npz: the four-part Bach chorales that music21 ships,
as piano rolls on a quarter-note grid over the 88 piano keys.

Run once, by hand, with music21 installed (`pip install music21==10.5.1`):

    .venv/bin/python scripts/make_chorales.py

The Riemenschneider numbering (`music21.corpus.chorales.Iterator`) lists 371 chorales, of
which 21 numbers repeat a score listed earlier, and two more scores give the same roll as
an earlier one; each is kept once (348 chorales), so that no chorale can land in two
splits. Each becomes a
`(frames, 88)` boolean roll: key `k` (MIDI pitch `21 + k`) is on in frame `t` when a note
of any part sounds at quarter-note beat `t` (onset `<= t < onset + duration`). Grace notes
(no duration) are skipped. The file holds the rolls bit-packed and concatenated, their
lengths and the chorales' corpus names; `zoo.data.load_chorales` reads it.
"""

import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "zoo" / "data" / "bundled" / "bach_chorales.npz"
LOWEST, KEYS = 21, 88


def roll_of(score):
    length = int(np.ceil(float(score.highestTime)))
    roll = np.zeros((length, KEYS), dtype=bool)
    for note in score.flatten().notes:
        start, duration = float(note.offset), float(note.quarterLength)
        if duration <= 0:
            continue
        first, last = int(np.ceil(start - 1e-9)), int(np.ceil(start + duration - 1e-9))
        for pitch in note.pitches:
            key = pitch.midi - LOWEST
            if 0 <= key < KEYS:
                roll[first:last, key] = True
    return roll


def main():
    from music21 import __version__, corpus

    listed = corpus.chorales.Iterator(numberingSystem="riemenschneider", returnType="filename")
    names = list(dict.fromkeys(listed))  # each score once, in order
    rolls, kept, seen = [], [], set()
    for i, name in enumerate(names):
        roll = roll_of(corpus.parse(name))
        print(f"\r{i + 1}/{len(names)} {name}", end="", file=sys.stderr)
        if (roll.shape, roll.tobytes()) in seen:
            continue
        seen.add((roll.shape, roll.tobytes()))
        rolls.append(roll)
        kept.append(name)
    names = kept
    print(file=sys.stderr)
    lengths = np.array([len(r) for r in rolls], dtype="int32")
    packed = np.packbits(np.concatenate(rolls), axis=1)
    np.savez_compressed(OUT, packed=packed, lengths=lengths, names=np.array(names),
                        music21_version=np.array(__version__))
    print(f"wrote {OUT}: {len(rolls)} chorales, {lengths.sum()} frames, "
          f"{OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
