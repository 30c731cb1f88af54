"""Chorales out: sampling from next-frame models, MIDI and MusicXML through music21 (read
back with music21's own parser), the piano-roll plot, and the shipped chorale model."""

import numpy as np
import pytest

import zoo
from zoo.data import load_chorales
from zoo.data.scores import notes_of, read_roll, write_roll
from zoo.models.music import sample_rolls
from zoo.plots import plot_piano_roll


@pytest.fixture(scope="module")
def roll():
    return load_chorales("test").rolls[0]


def test_notes_merge_held_keys_by_hand():
    roll = np.zeros((5, 88), "float32")
    roll[0:3, 39] = 1          # C4 held three beats
    roll[4, 39] = 1            # struck again
    roll[1, 43] = 1            # E4 for one beat
    assert notes_of(roll) == [(0, 3, 60), (1, 1, 64), (4, 1, 60)]


@pytest.mark.parametrize("suffix", [".mid", ".musicxml"])
def test_written_scores_read_back_to_the_same_roll(roll, suffix, tmp_path):
    path = write_roll(roll, tmp_path / f"chorale{suffix}")
    np.testing.assert_array_equal(read_roll(path), roll)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_roll(roll[:4], path)
    np.testing.assert_array_equal(read_roll(path), roll)     # untouched
    write_roll(roll[:4], path, overwrite=True)
    assert read_roll(path).shape[0] == 4


def test_bad_rolls_and_paths_are_refused(roll, tmp_path):
    with pytest.raises(ValueError, match="suffix|format"):
        write_roll(roll, tmp_path / "chorale.wav")
    with pytest.raises(ValueError, match="88"):
        write_roll(roll[:, :80], tmp_path / "a.mid")
    with pytest.raises(ValueError, match="0 and 1"):
        write_roll(roll * 0.5, tmp_path / "a.mid")
    assert not list(tmp_path.iterdir())


def test_reading_an_empty_or_foreign_score_is_a_clear_error(tmp_path):
    import music21

    empty = music21.stream.Stream()
    empty.append(music21.note.Rest())
    empty.write("midi", fp=str(tmp_path / "rest.mid"))
    with pytest.raises(ValueError, match="no notes"):
        read_roll(tmp_path / "rest.mid")
    high = music21.stream.Stream([music21.note.Note(120)])
    high.write("midi", fp=str(tmp_path / "high.mid"))
    with pytest.raises(ValueError, match="outside the 88"):
        read_roll(tmp_path / "high.mid")


def test_sampling_keeps_the_prime_is_seeded_and_causal(roll):
    model = zoo.get("music_rnn", units=8)
    a = sample_rolls(model, 6, roll[:3], seed=1)
    assert a.shape == (9, 88) and set(np.unique(a)) <= {0.0, 1.0}
    np.testing.assert_array_equal(a[:3], roll[:3])
    np.testing.assert_array_equal(a, sample_rolls(model, 6, roll[:3], seed=1))
    batch = sample_rolls(model, 6, np.stack([roll[:3], roll[3:6]]), seed=1)
    assert batch.shape == (2, 9, 88)
    ar = sample_rolls(zoo.get("linear_ar", order=2), 4, roll[:2], seed=0)
    assert ar.shape == (6, 88)


@pytest.mark.parametrize("bad,match", [
    ({"frames": 0}, "frames"), ({"temperature": 0.0}, "temperature"),
    ({"prime": np.zeros((3, 80))}, "prime"), ({"prime": np.zeros((0, 88))}, "prime"),
    ({"prime": np.full((2, 88), np.nan)}, "0 and 1")])
def test_bad_sampling_settings_are_refused(bad, match):
    kwargs = {"frames": 4, "prime": np.zeros((2, 88)), **bad}
    with pytest.raises(ValueError, match=match):
        sample_rolls(zoo.get("music_rnn", units=8), kwargs.pop("frames"), kwargs.pop("prime"),
                     **kwargs)


def test_bidirectional_models_cannot_sample():
    model = zoo.get("music_rnn", units=8, bidirectional=True)
    with pytest.raises(ValueError, match="causal"):
        sample_rolls(model, 4, np.zeros((2, 88)))


def test_the_shipped_chorale_model_writes_chorale_like_music(roll, tmp_path):
    model = zoo.get("music_rnn", weights="bach_chorales")
    rolls = sample_rolls(model, 32, np.stack([roll[:4]] * 8), temperature=1.0, seed=0)
    generated = rolls[:, 4:]
    real = np.concatenate(load_chorales("train").rolls)
    # Four voices: real chorales sound about four keys a beat; an untrained model, half of
    # the 88. Almost every sampled note is a key the training chorales use (an untrained
    # model puts 44% of its notes on the other 39 keys).
    per_beat = generated.sum(-1).mean()
    assert 2.5 < per_beat < 6.0, per_beat
    outside = generated[:, :, real.sum(0) == 0].sum() / generated.sum()
    assert outside < 0.02, outside
    path = write_roll(rolls[0], tmp_path / "sample.mid")
    np.testing.assert_array_equal(read_roll(path), rolls[0][:len(read_roll(path))])
    png = plot_piano_roll(rolls[0], tmp_path / "sample.png", primed=4)
    assert png.stat().st_size > 5000
