import numpy as np
import pytest

from zoo.data.synthetic import recola_like, variable_binding
from zoo.models.emotion.evaluation import band_edge


def test_layout_and_partitions():
    corpus = recola_like(train=3, dev=2, test=1, length=500, input_dim=20)
    assert corpus.names == ["train_1", "train_2", "train_3", "dev_1", "dev_2", "test_1"]
    assert all(x.shape == (500, 20) for x in corpus.features)
    assert all(y.shape == (500, 2) for y in corpus.labels)


def test_targets_are_slow():
    corpus = recola_like(train=2, dev=0, length=7501, input_dim=20)
    for y in corpus.labels:
        for k in range(2):
            assert band_edge(y[:, k], frame_rate=25.0, fraction=0.95) < 1.0


def test_single_frames_say_little_and_long_averages_a_lot():
    corpus = recola_like(train=4, dev=0, length=7501, input_dim=20, seed=1).znorm()
    x, y = np.concatenate(corpus.features), np.concatenate(corpus.labels)
    frame_fit = np.linalg.lstsq(x, y[:, 0], rcond=None)[0]
    frame_r = np.corrcoef(x @ frame_fit, y[:, 0])[0, 1]
    smooth = np.stack([np.convolve(c, np.ones(151) / 151, mode="same") for c in x.T], 1)
    long_r = np.corrcoef(smooth @ np.linalg.lstsq(smooth, y[:, 0], rcond=None)[0], y[:, 0])[0, 1]
    assert frame_r < 0.5 < 0.85 < long_r


def test_seed_reproducibility():
    a, b = recola_like(train=1, dev=0, length=50, seed=7), recola_like(train=1, dev=0, length=50, seed=7)
    np.testing.assert_array_equal(a.features[0], b.features[0])


def test_variable_binding_targets_the_value_bound_to_the_queried_key():
    x, y = variable_binding(64, pairs=5, symbols=8, rng=np.random.default_rng(0))
    assert x.shape == (64, 11, 17) and y.shape == (64,)
    for seq, target in zip(x, y):
        keys = [int(np.argmax(seq[2 * i, :8])) for i in range(5)]
        values = [int(np.argmax(seq[2 * i + 1, 8:16])) for i in range(5)]
        assert len(set(keys)) == 5
        assert seq[:-1, 16].sum() == 0 and seq[-1, 16] == 1
        query = int(np.argmax(seq[-1, :8]))
        assert target == values[keys.index(query)]
    assert np.all(x.sum(-1)[:, :-1] == 1)
    with pytest.raises(ValueError, match="cannot exceed"):
        variable_binding(2, pairs=9, symbols=8, rng=np.random.default_rng(0))
