"""Music models and autoregressive baselines: the NLL against a hand computation, the AR
models against NumPy, causality, and the bundled chorales."""

import numpy as np
import pytest

import zoo
from zoo.data import load_chorales
from zoo.models.music import frame_nll, independent_notes_nll, nll_per_timestep


def test_frame_nll_is_the_binary_nll_summed_over_keys():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3, size=(2, 3, 88)).astype("float32")
    y = (rng.random((2, 3, 88)) < 0.1).astype("float32")
    p = 1 / (1 + np.exp(-logits.astype("float64")))
    want = -(y * np.log(p) + (1 - y) * np.log(1 - p)).sum(-1)
    np.testing.assert_allclose(np.asarray(frame_nll(y, logits)), want, rtol=1e-5)


def test_independent_notes_baseline_by_hand():
    train = [np.array([[1, 0], [1, 1]], "float32"), np.array([[0, 0], [1, 0]], "float32")]
    test = [np.array([[1, 0]], "float32")]
    # p(key 0) = 3/4, p(key 1) = 1/4: NLL = -log(3/4) - log(3/4).
    padded = [np.pad(r, ((0, 0), (0, 86))) for r in train]
    padded_test = [np.pad(r, ((0, 0), (0, 86))) for r in test]
    got = independent_notes_nll(padded, padded_test)
    want = -2 * np.log(0.75) - 86 * np.log(1 - 1e-4)
    assert got == pytest.approx(want, rel=1e-5)


def test_linear_ar_is_a_linear_function_of_the_last_p_frames():
    model = zoo.get("linear_ar", input_dim=3, outputs=2, order=3)
    rng = np.random.default_rng(1)
    for w in model.weights:
        w.assign(rng.normal(size=w.shape).astype("float32"))
    kernel, bias = (w.numpy().astype("float64") for w in model.get_layer("ar").weights)
    x = rng.normal(size=(1, 7, 3)).astype("float32")
    padded = np.concatenate([np.zeros((1, 2, 3)), x], axis=1)
    want = np.stack([sum(padded[0, t + j] @ kernel[j] for j in range(3)) + bias
                     for t in range(7)])
    np.testing.assert_allclose(model.predict(x, verbose=0)[0], want, atol=1e-5)


@pytest.mark.parametrize("name", ["linear_ar", "feedforward_ar", "music_rnn"])
def test_predictions_never_read_the_future(name):
    model = zoo.get(name, input_dim=4, outputs=4, **({"units": 8} if name == "music_rnn" else {}))
    x = np.random.default_rng(2).normal(size=(1, 10, 4)).astype("float32")
    changed = x.copy()
    changed[:, 6:] += 5.0
    np.testing.assert_allclose(model.predict(x, verbose=0)[:, :6],
                               model.predict(changed, verbose=0)[:, :6], atol=1e-6)


def test_bundled_chorales_split_by_chorale():
    parts = {p: load_chorales(p) for p in ("train", "valid", "test")}
    assert [len(parts[p]) for p in ("train", "valid", "test")] == [209, 70, 69]
    names = [set(parts[p].names) for p in parts]
    assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
    rolls = np.concatenate(parts["train"].rolls)
    assert rolls.shape[1] == 88 and set(np.unique(rolls)) <= {0.0, 1.0}
    assert 3.5 < rolls.sum(1).mean() <= 4.5  # four voices, sometimes in unison or resting
    x, y, mask = parts["test"].next_step()
    lengths = mask.sum(1).astype(int)
    np.testing.assert_array_equal(x[0, 1:lengths[0]], y[0, :lengths[0] - 1])
    with pytest.raises(ValueError, match="split"):
        load_chorales("training")


def test_music_model_learns_beyond_the_independent_notes_baseline():
    train, test = load_chorales("train"), load_chorales("valid")
    import keras

    keras.utils.set_random_seed(0)
    model = zoo.get("music_rnn", units=16)
    model.compile(keras.optimizers.Adam(3e-2), keras.losses.BinaryCrossentropy(from_logits=True))
    x, y, mask = train.next_step()
    model.fit(x, y, sample_weight=mask, epochs=10, batch_size=16, verbose=0)
    baseline = independent_notes_nll(train.rolls, test.rolls)
    assert nll_per_timestep(model, *test.next_step()) < baseline


def test_nothing_to_score_is_refused():
    model = zoo.get("linear_ar", input_dim=88, outputs=88)
    x = np.zeros((1, 3, 88), "float32")
    with pytest.raises(ValueError, match="no real frame"):
        nll_per_timestep(model, x, x, np.zeros((1, 3)))
    with pytest.raises(ValueError, match="at least one roll"):
        independent_notes_nll([], [x[0]])

