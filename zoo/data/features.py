"""Acoustic features as in Khorram et al. 2017: 40 log-Mel filterbanks, 25 ms windows,
10 ms hop, per-speaker z-normalisation, 4 frames stacked to 160 dims at 40 ms."""

import numpy as np
import tensorflow as tf

_LOG_FLOOR = 1e-6


def log_mel(waveform, sample_rate, n_mels=40, window_s=0.025, hop_s=0.010,
            fmin=0.0, fmax=None):
    """Log-Mel filterbank energies of a mono waveform.

    Args:
        waveform: 1-D float array of samples.
        sample_rate: samples per second.
        n_mels: filterbanks. Default 40.
        window_s: analysis window in seconds (Hamming). Default 0.025.
        hop_s: hop in seconds. Default 0.010.
        fmin: lowest filterbank edge in Hz. Default 0.
        fmax: highest edge in Hz. Default `sample_rate / 2`.

    Returns:
        float32 array `(frames, n_mels)` with `frames = 1 + (len - window) // hop`.
    """
    waveform = np.asarray(waveform, dtype=np.float32)
    if waveform.ndim != 1:
        raise ValueError(f"log_mel expects a 1-D waveform. Received shape {waveform.shape}.")
    if sample_rate <= 0:
        raise ValueError(f"`sample_rate` must be positive. Received: {sample_rate}")
    frame_length = int(round(window_s * sample_rate))
    frame_step = int(round(hop_s * sample_rate))
    if waveform.shape[0] < frame_length:
        raise ValueError(
            f"The waveform has {waveform.shape[0]} samples, fewer than one {window_s} s "
            f"window ({frame_length} samples at {sample_rate} Hz)."
        )
    if not np.isfinite(waveform).all():
        raise ValueError("The waveform contains NaN or inf samples.")
    fft_length = int(2 ** np.ceil(np.log2(frame_length)))
    stft = tf.signal.stft(waveform, frame_length, frame_step, fft_length,
                          window_fn=tf.signal.hamming_window)
    power = tf.math.square(tf.math.abs(stft))
    mel = tf.signal.linear_to_mel_weight_matrix(
        n_mels, fft_length // 2 + 1, sample_rate, fmin, fmax or sample_rate / 2.0
    )
    return tf.math.log(tf.matmul(power, mel) + _LOG_FLOOR).numpy()


def stack_frames(x, n=4):
    """Concatenate every `n` consecutive frames: `(..., T, F)` -> `(..., T // n, n * F)`.

    Frame `k` of the result is `[x[n k], x[n k + 1], ..., x[n k + n - 1]]`; a tail of fewer
    than `n` frames is dropped. With `n=4`, 10 ms filterbank frames become 40 ms frames,
    the label rate of RECOLA/AVEC 2016.
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"stack_frames expects (..., time, features). Received {x.shape}.")
    if n <= 0:
        raise ValueError(f"`n` must be positive. Received: n={n}")
    frames = x.shape[-2] // n
    trimmed = x[..., : frames * n, :]
    return trimmed.reshape(*x.shape[:-2], frames, n * x.shape[-1])


def znorm(features, speakers=None, epsilon=1e-8):
    """Z-normalise each speaker's frames with that speaker's mean and deviation.

    Args:
        features: a list of `(time, features)` arrays, one per recording.
        speakers: a speaker id per recording; default: each recording its own speaker
            (RECOLA has one speaker per recording).
        epsilon: floor of the standard deviation (constant features become 0).

    Returns:
        A list of normalised float32 arrays, in the same order.
    """
    speakers = list(range(len(features))) if speakers is None else list(speakers)
    if len(speakers) != len(features):
        raise ValueError(
            f"Got {len(speakers)} speaker ids for {len(features)} recordings."
        )
    out = [None] * len(features)
    for speaker in dict.fromkeys(speakers):
        idx = [i for i, s in enumerate(speakers) if s == speaker]
        frames = np.concatenate([features[i] for i in idx], axis=0).astype(np.float64)
        mean, std = frames.mean(axis=0), np.maximum(frames.std(axis=0), epsilon)
        for i in idx:
            out[i] = ((features[i] - mean) / std).astype(np.float32)
    return out
