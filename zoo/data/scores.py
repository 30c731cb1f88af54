"""Piano rolls to scores: MIDI and MusicXML files through music21.

A roll `(frames, 88)` holds 1 where piano key `k` (MIDI pitch `21 + k`) sounds at a frame
(one quarter note on the chorales' grid). A key held over consecutive frames becomes one
note of that length: the grid cannot tell a held note from a repeated one, and holding is
what chorale voices mostly do (a choice, written down here). MusicXML gets the notes as
chords split at every onset, tied across (music21's `chordify`), which notation programs
read as one staff; MIDI gets the notes as they are.
"""

import os
from pathlib import Path

import numpy as np

from zoo.files import atomic_path

KEYS = 88
LOWEST_PITCH = 21
FORMATS = {".mid": "midi", ".midi": "midi", ".musicxml": "musicxml", ".xml": "musicxml"}


def _music21():
    try:
        import music21
    except ImportError as error:
        raise ImportError("Writing scores needs music21: pip install 'zoo[music]'.") from error
    return music21


def check_roll(roll):
    roll = np.asarray(roll)
    if roll.ndim != 2 or roll.shape[1] != KEYS or not len(roll):
        raise ValueError(f"A piano roll must be (frames >= 1, {KEYS}). "
                         f"Received shape {roll.shape}.")
    if not np.isin(roll, (0, 1)).all():
        raise ValueError("A piano roll must hold only 0 and 1.")
    return roll.astype(bool)


def notes_of(roll):
    """`(start, length, midi_pitch)` of every note of `roll`, held keys merged."""
    roll = check_roll(roll)
    notes = []
    for key in range(KEYS):
        on = np.flatnonzero(np.diff(np.concatenate([[0], roll[:, key].astype(int), [0]])))
        notes += [(int(a), int(b - a), LOWEST_PITCH + key) for a, b in zip(on[::2], on[1::2])]
    return sorted(notes)


def roll_to_score(roll, quarter_length=1.0, tempo=80):
    """A music21 `Score` of `roll`: one part, a frame lasting `quarter_length` quarters."""
    m21 = _music21()
    part = m21.stream.Part()
    part.insert(0, m21.tempo.MetronomeMark(number=tempo))
    for start, length, pitch in notes_of(roll):
        note = m21.note.Note(pitch, quarterLength=length * quarter_length)
        part.insert(start * quarter_length, note)
    score = m21.stream.Score()
    score.insert(0, part)
    return score


def write_roll(roll, path, overwrite=False, quarter_length=1.0, tempo=80):
    """Writes `roll` as MIDI (`.mid`, `.midi`) or MusicXML (`.musicxml`, `.xml`), atomically.

    Args:
        roll: `(frames, 88)` of 0 and 1.
        path: the file; its suffix chooses the format.
        overwrite: replace an existing file (refused by default).

    Returns:
        `path`.

    Example:

    ```python
    write_roll(zoo.data.load_chorales("test").rolls[0], "bwv.mid")
    ```
    """
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ValueError(f"Cannot tell the format of {path}: use one of "
                         f"{', '.join(FORMATS)}.")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
    score = roll_to_score(roll, quarter_length, tempo)
    if kind == "musicxml":
        score = score.chordify()
    with atomic_path(path) as tmp:
        written = score.write(kind, fp=str(tmp))
        if Path(written) != Path(tmp):
            os.replace(written, tmp)
    return path


def read_roll(path, quarter_length=1.0):
    """The roll of a MIDI or MusicXML file on a grid of `quarter_length` (each note on
    from its onset frame to before its end frame): for checking what `write_roll` wrote.

    MIDI is read event by event (note on, note off), not through music21's score import,
    which quantises and regroups notes into chords and can move them.
    """
    path = Path(path)
    if FORMATS.get(path.suffix.lower()) == "midi":
        notes = _midi_notes(path)
    else:
        score = _music21().converter.parse(str(path))
        notes = [(float(n.offset), float(n.offset + n.quarterLength), p.midi)
                 for n in score.flatten().notes for p in n.pitches]
    if not notes:
        raise ValueError(f"{path} holds no notes.")
    outside = sorted({p for _, _, p in notes if not LOWEST_PITCH <= p < LOWEST_PITCH + KEYS})
    if outside:
        raise ValueError(f"{path} has notes outside the 88 piano keys (MIDI pitches {outside}).")
    end = max(stop for _, stop, _ in notes)
    roll = np.zeros((int(round(end / quarter_length)), KEYS), "float32")
    for start, stop, pitch in notes:
        a, b = int(round(start / quarter_length)), int(round(stop / quarter_length))
        roll[a:b, pitch - LOWEST_PITCH] = 1.0
    return roll


def _midi_notes(path):
    """`(start, stop, pitch)` in quarter notes from a MIDI file's note on/off events."""
    midi = _music21().midi
    handle = midi.MidiFile()
    handle.open(str(path))
    handle.read()
    handle.close()
    on, off = midi.ChannelVoiceMessages.NOTE_ON, midi.ChannelVoiceMessages.NOTE_OFF
    notes = []
    for track in handle.tracks:
        ticks, sounding = 0, {}
        for event in track.events:
            if event.isDeltaTime():
                ticks += event.time
            elif event.type in (on, off):
                time = ticks / handle.ticksPerQuarterNote
                if event.type == on and event.velocity > 0:
                    sounding[event.pitch] = time
                elif event.pitch in sounding:
                    notes.append((sounding.pop(event.pitch), time, event.pitch))
    return notes
