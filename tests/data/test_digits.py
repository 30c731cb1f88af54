"""Sequential digits: scikit-learn's bundled 8x8 digits, split, scaled and permuted."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from zoo.data import load_sequential_digits
from zoo.recipes.digits import digits_classifier, train_digits


def test_splits_partition_the_1797_images_row_by_row():
    x, y = load_sequential_digits("train")
    x_test, y_test = load_sequential_digits("test")
    assert x.shape == (1438, 64, 1) and x_test.shape == (359, 64, 1)
    assert x.dtype == np.float32 and y.dtype == np.int32
    assert 0.0 == x.min() and x.max() == 1.0
    # Every image is in exactly one split, pixels read row by row (the image's own order).
    digits = load_digits()
    images = {(img / 16.0).astype("float32").tobytes(): label
              for img, label in zip(digits.data, digits.target)}
    seen = [s[:, 0].tobytes() for s in np.concatenate([x, x_test])]
    assert all(k in images for k in seen)
    assert sorted(np.concatenate([y, y_test]).tolist()) == sorted(digits.target.tolist())
    assert set(np.unique(y)) == set(range(10))


def test_permuted_reads_every_image_in_one_fixed_order():
    (x, _), (x_test, _) = load_sequential_digits("train"), load_sequential_digits("test")
    p = load_sequential_digits("train", permuted=True)[0]
    p_test = load_sequential_digits("test", permuted=True)[0]
    x, x_test, p, p_test = x[..., 0], x_test[..., 0], p[..., 0], p_test[..., 0]
    unique = {}
    for k in range(64):
        matches = np.flatnonzero((x == p[:, k:k + 1]).all(0))
        assert len(matches) >= 1                       # every step is some pixel of the image
        if len(matches) == 1:
            unique[k] = int(matches[0])
    # Pixels that are not always blank are placed uniquely, in a shuffled order, and the
    # test images are read in that same order.
    assert len(unique) > 50 and list(unique.values()) != sorted(unique.values())
    for k, j in unique.items():
        np.testing.assert_array_equal(p_test[:, k], x_test[:, j])
    assert not np.array_equal(load_sequential_digits("train", True, seed=1)[0][..., 0],
                              load_sequential_digits("train", False, seed=1)[0][..., 0])


def test_bad_split_is_refused():
    with pytest.raises(ValueError, match="split"):
        load_sequential_digits("valid")


def test_training_reports_the_test_error():
    result = train_digits("gru", epochs=1, units=8)
    assert set(result) >= {"test_error", "best_test_error", "best_epoch", "parameters"}
    assert 0.0 <= result["test_error"] <= 1.0 and result["parameters"] > 0


def test_the_digit_classifier_reads_blank_pixels():
    # Masked, a digit's blank pixels would be skipped: [a, b, 0, 0] would score as [a, b].
    model = digits_classifier("gru", input_dim=1, units=4)
    x = np.array([[[0.7], [0.2], [0.0], [0.0]]], "float32")
    assert np.abs(model.predict(x, verbose=0) - model.predict(x[:, :2], verbose=0)).max() > 1e-4


def test_bad_digit_settings_are_refused():
    with pytest.raises(ValueError, match="source"):
        train_digits("gru", epochs=1, source="mnist")
    with pytest.raises(ValueError, match="evaluate_every"):
        train_digits("gru", epochs=1, evaluate_every=0)
