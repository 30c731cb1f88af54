"""Padded sequences: the classifiers mask 0-frames themselves; the other models warn once
when `fit` sees end-padded frames and no `sample_weight` (issue 32)."""

import warnings

import numpy as np
import pytest

import zoo
from zoo.data import PaddingWarning, pad
from zoo.data.sequences import end_padded

RNG = np.random.default_rng(0)
LENGTHS = (12, 7, 5)


def _padded(features=3):
    x, mask = pad([RNG.normal(size=(n, features)) for n in LENGTHS])
    return x, mask


def _fit(model, x, y, times=1, **kwargs):
    model.compile("adam", "mse" if y.ndim == 3 else "sparse_categorical_crossentropy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(times):
            model.fit(x, y, epochs=1, verbose=0, **kwargs)
    return [w for w in caught if issubclass(w.category, PaddingWarning)]


def test_end_padded_counts_the_sequences_that_end_in_zero_frames():
    x, _ = _padded()
    assert end_padded(x) == 2
    assert end_padded(x[:1]) == 0                       # nothing padded
    assert end_padded(x[:, :, :1]) == 0                 # one feature: zeros are data
    assert end_padded(x.astype("int32")) == 0           # token ids, not frames
    assert end_padded(np.zeros((2, 9, 3), "float32")) == 0   # all silent: no longer one


def test_a_regressor_warns_once_of_unweighted_padding():
    x, mask = _padded()
    model = zoo.get("gru_regressor", input_dim=3, outputs=2, units=4)
    caught = _fit(model, x, np.zeros((3, 12, 2), "float32"), times=2)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "2 of 3 sequences end in all-zero frames" in message
    assert "sample_weight=mask" in message and "zoo.data.pad" in message
    assert caught[0].filename == __file__               # points at the caller's fit


def test_no_warning_with_sample_weight_or_without_padding():
    x, mask = _padded()
    y = np.zeros((3, 12, 2), "float32")
    model = zoo.get("emotion_downup", input_dim=3, outputs=2, filters=4)
    assert _fit(model, x, y, sample_weight=mask) == []
    x_full = RNG.normal(size=(3, 12, 3)).astype("float32")
    assert _fit(zoo.get("gru_regressor", input_dim=3, outputs=2, units=4), x_full, y) == []


@pytest.mark.parametrize("name", ["gru_classifier", "bilinear_classifier"])
def test_classifiers_mask_their_padding_and_do_not_warn(name):
    x, _ = _padded()
    model = zoo.get(name, input_dim=3, classes=2, units=4)
    assert _fit(model, x, np.array([0, 1, 0])) == []
    # The mask is real: a padded sequence scores as its unpadded frames do.
    short = x[1:2, :LENGTHS[1]]
    np.testing.assert_allclose(model.predict(x[1:2], verbose=0),
                               model.predict(short, verbose=0), atol=1e-6)


def test_a_classifier_told_to_read_every_frame_does_not_warn_and_reads_them():
    x, _ = _padded()
    model = zoo.get("gru_classifier", input_dim=3, classes=2, units=4, mask_value=None)
    assert _fit(model, x, np.array([0, 1, 0])) == []
    # Nothing is masked: the trailing zero frames change the final state.
    short = x[1:2, :LENGTHS[1]]
    assert np.abs(model.predict(x[1:2], verbose=0) - model.predict(short, verbose=0)).max() > 1e-4
