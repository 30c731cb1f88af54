"""Recurrent classifiers, regressors and the character language model."""

import keras
import numpy as np
from keras import ops
import pytest

import zoo
from zoo.models import CharLM


def test_classifier_ignores_end_padding():
    model = zoo.get("gru_classifier", input_dim=3, classes=4, units=5)
    x = np.random.default_rng(0).normal(size=(1, 7, 3)).astype("float32")
    padded = np.concatenate([x, np.zeros((1, 5, 3), "float32")], 1)
    np.testing.assert_allclose(model.predict(padded, verbose=0), model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("cell", sorted(zoo.models.CELLS))
def test_every_cell_builds_a_bidirectional_stack(cell):
    model = zoo.get(f"{cell}_regressor", input_dim=3, outputs=2, units=4, depth=2, bidirectional=True)
    assert model(np.zeros((2, 9, 3), "float32")).shape == (2, 9, 2)


def test_bad_settings_and_inputs():
    with pytest.raises(ValueError, match="Unknown cell 'lstmx'"):
        zoo.models.SequenceClassifier(3, 2, cell="lstmx")
    with pytest.raises(ValueError, match="units"):
        zoo.get("gru_classifier", units=0)
    model = zoo.get("peephole_lstm_classifier", input_dim=3, classes=2, units=4)
    with pytest.raises(ValueError, match="expects input_dim=3"):
        model.predict(np.zeros((1, 5, 4), "float32"))
    x = np.zeros((1, 5, 3), "float32")
    x[0, 2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.predict(x)


# -- char_lm ---------------------------------------------------------------------------
def test_encode_decode_and_windows():
    lm = CharLM("abc", units=4, depth=1)
    np.testing.assert_array_equal(lm.encode("abz"), [1, 2, 0])
    assert lm.decode(lm.encode("cab")) == "cab"
    x, y = lm.windows("abcabcabc", length=3)
    np.testing.assert_array_equal(x[0], lm.encode("abc"))
    np.testing.assert_array_equal(y[0], lm.encode("bca"))
    with pytest.raises(ValueError, match="at least 11"):
        lm.windows("abc", length=10)
    with pytest.raises(ValueError, match="repeat"):
        CharLM("aa")


def test_bad_ids_are_refused():
    lm = CharLM("abc", units=4, depth=1)
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        lm.predict(np.array([[1, 7]]))
    with pytest.raises(ValueError, match="integer ids"):
        lm.predict(np.zeros((1, 3), "float32"))
    with pytest.raises(ValueError, match="temperature"):
        lm.generate("a", 3, temperature=0)
    with pytest.raises(ValueError, match="top_k"):
        lm.generate("a", 3, top_k=9)


@pytest.mark.portable
def test_step_by_step_generation_matches_the_full_model():
    """`generate` runs cells one step at a time; the logits must be the model's."""
    lm = CharLM("abcd", cell="peephole_lstm", units=6, depth=2)
    text = "abdcab"
    full = lm.predict(lm.encode(text)[None], verbose=0)[0]
    states = [cell.get_initial_state(1) for cell in lm._recurrent_cells()]
    for t, i in enumerate(lm.encode(text)):
        logits, states = lm._step(np.array([i]), states)
        np.testing.assert_allclose(ops.convert_to_numpy(logits)[0], full[t], atol=1e-5)


@pytest.mark.portable
def test_learns_and_continues_a_pattern():
    keras.utils.set_random_seed(0)
    text = "hello world. " * 60
    lm = zoo.get("char_lm", vocabulary=CharLM.vocabulary_of(text), units=32, depth=1)
    x, y = lm.windows(text, length=26, stride=3)
    lm.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    lm.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert lm.generate("hello", 21, greedy=True) == "hello world. hello world. "
    assert lm.generate("hello", 21, top_k=1, seed=3) == lm.generate("hello", 21, greedy=True)
    sampled = lm.generate("hel", 40, temperature=1.5, seed=1)
    assert len(sampled) == 43 and set(sampled) <= set(text)
