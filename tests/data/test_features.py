import numpy as np
import pytest

from zoo.data import log_mel, stack_frames


def test_log_mel_shape_and_tone_position():
    sr = 16000
    t = np.arange(sr) / sr
    low = log_mel(np.sin(2 * np.pi * 300 * t), sr)
    high = log_mel(np.sin(2 * np.pi * 3000 * t), sr)
    assert low.shape == (1 + (sr - 400) // 160, 40) == high.shape
    assert low.dtype == np.float32
    # The strongest filterbank follows the tone's frequency upwards.
    assert np.median(low.argmax(1)) < np.median(high.argmax(1))
    assert np.isfinite(log_mel(np.zeros(800), sr)).all()  # silence: log floor, no -inf


def test_log_mel_bad_input():
    with pytest.raises(ValueError, match="fewer than one"):
        log_mel(np.zeros(100), 16000)
    with pytest.raises(ValueError, match="NaN"):
        log_mel(np.full(1000, np.nan), 16000)
    with pytest.raises(ValueError, match="1-D"):
        log_mel(np.zeros((2, 1000)), 16000)


def test_stack_frames_concatenates_consecutive_frames():
    x = np.arange(10 * 3).reshape(10, 3)
    stacked = stack_frames(x, 4)
    assert stacked.shape == (2, 12)
    np.testing.assert_array_equal(stacked[1], np.concatenate(x[4:8]))
    batched = stack_frames(np.stack([x, x + 100]), 4)
    np.testing.assert_array_equal(batched[1, 0], np.concatenate(x[0:4] + 100))


def test_filterbanks_to_40ms_frames_of_160_dims():
    sr = 16000
    feats = stack_frames(log_mel(np.random.default_rng(0).normal(size=3 * sr), sr), 4)
    assert feats.shape == ((1 + (3 * sr - 400) // 160) // 4, 160)
