"""The RNNPB's defaults for new data (issue 18): scale, compression, epochs, recognition."""

import keras
import numpy as np
import pytest

import zoo
from zoo.models.rnnpb import frames, learning, pb_updates, reports


def _sequences(amplitudes, length=30, channels=2, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(length)[:, None]
    return [(a * np.sin(0.3 * t + rng.uniform(0, 6, size=channels))
             + 0.01 * a * rng.normal(size=(length, channels))).astype("float32")
            for a in amplitudes]


def test_compress_is_chosen_only_when_amplitudes_spread_by_ten():
    quiet_and_loud = _sequences([0.05] * 5 + [5.0] * 5)  # spread 100x
    chosen = frames.choose_compress(quiet_and_loud)
    raw = [np.sqrt(np.mean(s.std(0) ** 2)) for s in quiet_and_loud]
    assert chosen == pytest.approx(np.percentile(raw, 10))
    assert frames.choose_compress(_sequences([1.0, 2.0, 3.0, 1.5] * 3)) is None
    assert frames.choose_compress(_sequences([1.0])) is None  # one sequence: no spread
    # units cancel: a loud channel next to a quiet one is not a spread between sequences
    scaled = [s * np.array([1000.0, 0.001], "float32") for s in _sequences([1.0, 1.2] * 5)]
    assert frames.choose_compress(scaled) is None
    model = zoo.get("rnnpb", units=4)
    model.fit(quiet_and_loud, epochs=1, verbose=0)
    assert model.compress == pytest.approx(chosen)
    assert model.get_config()["compress"] == pytest.approx(chosen)  # saved, not "auto"


def test_constant_channels_and_a_single_sequence_are_handled():
    rng = np.random.default_rng(0)
    constant = [np.c_[rng.normal(size=(20, 1)), np.full((20, 1), 7.0)].astype("float32")
                for _ in range(3)]
    model = zoo.get("rnnpb", units=4)
    model.fit(constant, epochs=2, verbose=0)
    z = model.features_of(constant)[0]
    assert np.isfinite(z).all() and np.allclose(z[..., 1], 0.0)  # centred, scale 1
    single = zoo.get("rnnpb", units=4)
    single.fit(constant[:1], epochs=2, verbose=0)  # one sequence: a table of one row
    assert single.num_sequences == 1 and single.compress is None
    pbs, _ = single.recognize(constant[1:], steps=5, verbose=0)
    assert pbs.shape == (2, 16) and np.isfinite(pbs).all()


def test_one_frame_one_class_and_very_different_lengths():
    """The bad inputs of issue 30 that `test_rnnpb.py` leaves out: a 1-frame sequence in
    `fit` is refused by index; one class is reported as it is (accuracy 1.0, one row);
    lengths 20 and 2000 learn and recognise together (padded and masked, as documented)."""
    rng = np.random.default_rng(0)
    sequences = [rng.normal(size=(20, 3)).astype("float32") for _ in range(3)]
    with pytest.raises(ValueError, match=r"x\[1\] has 1 frames; at least 2 are needed"):
        zoo.get("rnnpb", units=4).fit([sequences[0], sequences[1][:1]], epochs=1, verbose=0)
    model = zoo.get("rnnpb", units=4)
    model.fit(sequences, labels=["a"] * 3, epochs=1, verbose=0)
    pbs, _ = model.recognize(sequences[:2], steps=3, starts=1, verbose=0)
    report = reports.compare_with_training(model, pbs, ["a", "a"])
    assert report["accuracy"] == 1.0 and report["table"].shape == (1, 1)
    # classify: both rules label a one-class table perfectly; the tie goes to the mean.
    labels, _ = model.classify(sequences[:2], steps=3, starts=1, verbose=0)
    assert list(labels) == ["a", "a"]
    mixed = [sequences[0], rng.normal(size=(2000, 3)).astype("float32")]
    model = zoo.get("rnnpb", units=4)
    model.fit(mixed, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="`classify` needs the labels of the training"):
        model.classify(mixed)  # fitted without labels
    pbs, errors = model.recognize(mixed, steps=2, starts=1, verbose=0)
    assert pbs.shape == (2, model.pb_dim) and np.isfinite(errors).all()


def test_scale_half_frames_equal_falls_back_to_the_standard_deviation():
    x = np.zeros((100, 1))
    x[:10] = 3.0  # interquartile range 0
    np.testing.assert_allclose(frames.robust_scale(x), x.std(0))
    np.testing.assert_allclose(frames.robust_scale(np.ones((5, 2))), [1.0, 1.0])


def test_converged_stops_on_a_plateau_and_not_before():
    stopper = learning.Converged(patience=3, min_improvement=0.01)
    stopper.set_model(keras.Sequential())
    stopper.model.stop_training = False
    for epoch, loss in enumerate([1.0, 0.5, 0.3, 0.299, 0.298, 0.2975]):
        stopper.on_epoch_end(epoch, {"loss": loss})
        assert bool(stopper.model.stop_training) == (epoch == 5)


def test_default_fit_stops_on_convergence_and_recognition_on_its_own(monkeypatch):
    """`fit()` and `recognize()` with nothing chosen: the epoch budget ends on a converged
    error (bounded here to keep the test short), recognition within its step bounds."""
    monkeypatch.setattr(learning, "AUTO_MAX_EPOCHS", 300)
    monkeypatch.setattr(learning, "AUTO_PATIENCE", 5)
    monkeypatch.setattr(learning, "AUTO_MIN_IMPROVEMENT", 0.05)
    sequences = _sequences([0.05, 0.06, 5.0, 4.0, 0.05, 5.0])
    keras.utils.set_random_seed(0)
    model = zoo.get("rnnpb", units=8)
    history = model.fit(sequences, verbose=0)
    assert len(history.epoch) < 300  # stopped by `Converged`, not the cap
    assert int(model.epochs_trained.numpy()) == len(history.epoch)
    loss = history.history["loss"]
    assert min(loss[-5:]) > 0.95 * min(loss[:-5]) - 1e-9  # the last 5 epochs gained < 5%
    pbs, errors = model.recognize(sequences[:2], verbose=0)
    assert pb_updates.AUTO_MIN_STEPS <= len(errors) <= pb_updates.AUTO_MAX_STEPS
    assert pb_updates.converged(errors[-25:]) or len(errors) == pb_updates.AUTO_MAX_STEPS
    assert errors[-1].mean() < errors[0].mean()


def test_auto_starts_follow_the_table_size():
    assert [pb_updates.auto_starts(n) for n in (1, 7, 8, 40, 63, 64, 3000)] == \
        [1, 1, 2, 6, 8, 8, 8]
    with pytest.raises(ValueError, match="`epochs` must be a positive int or 'auto'"):
        zoo.get("rnnpb", units=4).fit(_sequences([1.0, 2.0]), epochs=0, verbose=0)
    with pytest.raises(ValueError, match="`scaling` must be"):
        zoo.get("rnnpb", scaling="minmax")
    with pytest.raises(ValueError, match="`compress` must be 'auto', None or a positive"):
        zoo.get("rnnpb", compress="Auto")
    untouched = zoo.get("rnnpb", units=4)
    with pytest.raises(ValueError, match="`epochs` must be a positive int or 'auto'"):
        untouched.fit(_sequences([1.0, 2.0]), epochs=2.5, verbose=0)
    assert not untouched.built  # refused before anything was fitted
