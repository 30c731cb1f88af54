"""Sequences in one place: checking, coercing to a list, padding and masks.

Every family takes sequences shaped `(batch, time, features)` (float32), or a list of
`(time, features)` arrays whose lengths differ; a list is end-padded to one array and a
mask marks the real frames. The checks here are what a user sees when a batch is wrong,
so their messages name what was expected and what was received.
"""

import numpy as np


def pad(sequences, length=None, value=0.0, mask_dtype="float32"):
    """End-pads a list of `(time, ...)` arrays to one `(n, length, ...)` float32 array.

    Args:
        sequences: non-empty list of arrays with equal trailing shapes.
        length: frames of the result (default: the longest); longer sequences are cut.
        value: fill of the padded frames.
        mask_dtype: dtype of the mask, 1 (True) on real frames.

    Returns:
        `(x, mask)`: `x` `(n, length, ...)` float32 and `mask` `(n, length)`.
    """
    length = max(len(s) for s in sequences) if length is None else int(length)
    trailing = np.shape(sequences[0])[1:]
    x = np.full((len(sequences), length, *trailing), value, dtype="float32")
    mask = np.zeros((len(sequences), length), dtype=mask_dtype)
    for i, seq in enumerate(sequences):
        n = min(len(seq), length)
        x[i, :n] = np.asarray(seq)[:n]
        mask[i, :n] = 1
    return x, mask


def as_sequence_list(sequences, channels=None, min_length=2, name="sequences"):
    """A list of float32 `(time, channels)` arrays from a 3-D array or a list of 2-D ones.

    Also takes `zoo.data.LabelledSequences` (its `sequences`).

    Raises:
        ValueError: empty input, wrong rank, a channel count other than `channels`,
            sequences shorter than `min_length` frames, NaN or inf.
    """
    if hasattr(sequences, "sequences") and hasattr(sequences, "labels"):
        sequences = sequences.sequences
    if isinstance(sequences, np.ndarray) or hasattr(sequences, "numpy"):
        array = np.asarray(sequences)
        if array.ndim == 2:
            raise ValueError(
                f"{name} must be a list of (time, channels) arrays or one (batch, time, "
                f"channels) array. Received one array of shape {array.shape}; wrap a "
                "single sequence as `[sequence]`."
            )
        if array.ndim != 3:
            raise ValueError(
                f"{name} must be shaped (batch, time, channels). Received shape {array.shape}."
            )
        sequences = list(array)
    sequences = [np.asarray(s, dtype="float32") for s in sequences]
    if not sequences:
        raise ValueError(f"{name} is empty: pass at least one sequence.")
    for i, seq in enumerate(sequences):
        if seq.ndim != 2:
            raise ValueError(f"{name}[{i}] must be (time, channels). Received shape {seq.shape}.")
        if channels is not None and seq.shape[1] != channels:
            raise ValueError(
                f"{name}[{i}] has {seq.shape[1]} channels; the model was built for "
                f"{channels}. Received shape {seq.shape}."
            )
        if len(seq) < min_length:
            raise ValueError(
                f"{name}[{i}] has {len(seq)} frames; at least {min_length} are needed "
                "(the network learns to predict each next frame)."
            )
        if not np.isfinite(seq).all():
            t, c = np.argwhere(~np.isfinite(seq))[0]
            raise ValueError(
                f"{name}[{i}] contains NaN or inf (first at frame {t}, channel {c}). "
                "Clean or interpolate the frames first."
            )
    return sequences


class PaddingWarning(UserWarning):
    """`fit` saw sequences ending in all-zero frames and no `sample_weight`: padding, if
    that is what they are, is counted in the loss. Silence it with `warnings` when the zero
    frames are data (rests in a piano roll)."""


def end_padded(x, least=2):
    """How many sequences of `x` `(batch, time, features)` look end-padded the way `pad`
    pads: at least `least` final frames zero in every feature, while some sequence of the
    batch (the longest) does not end so. Inputs of one feature are not judged: a zero
    there (a blank pixel, a silent sample) is data as often as padding."""
    if not isinstance(x, np.ndarray) or x.ndim != 3 or x.dtype.kind != "f" or (
            x.shape[1] <= least or x.shape[-1] < 2):
        return 0
    # Only the last frames are read, and the whole of the few sequences ending in zeros.
    if not np.any(x[:, -1]):
        return 0                                     # every sequence ends so: no padding
    ends = ~np.any(x[:, -least:], axis=(1, 2))
    return int(np.count_nonzero(np.any(x[ends], axis=(1, 2)))) if ends.any() else 0


def check_sequences(x, input_dim=None, min_length=1, name="inputs"):
    """Validate a batch of sequences shaped (batch, time, features).

    Args:
        x: array-like, or something that is not an array (a `tf.data.Dataset`, a
            generator), which is returned unchecked.
        input_dim: expected number of features, or None to skip that check.
        min_length: the fewest time steps accepted. Default 1.
        name: how the message names `x`.

    Returns:
        `x` unchanged.

    Raises:
        ValueError: wrong rank, wrong feature size, too few frames, NaN or inf.
    """
    if isinstance(x, (list, tuple)) and x and all(hasattr(v, "shape") for v in x):
        for i, item in enumerate(x):
            check_sequences(item, input_dim, min_length, f"{name}[{i}]")
        return x
    if not (isinstance(x, np.ndarray) or _is_eager_tensor(x)):
        return x
    array = np.asarray(x)
    if array.ndim != 3:
        raise ValueError(
            f"{name} must be shaped (batch, time, features). "
            f"Received an array of shape {array.shape}."
        )
    if input_dim is not None and array.shape[-1] != input_dim:
        raise ValueError(
            f"{name} has {array.shape[-1]} features per frame but the model expects "
            f"input_dim={input_dim}. Received shape {array.shape}."
        )
    if array.shape[1] < min_length:
        what = "an empty sequence" if array.shape[1] == 0 else "sequences that are too short"
        raise ValueError(
            f"{name} holds {what}: {array.shape[1]} time steps, at least {min_length} "
            f"needed. Received shape {array.shape}."
        )
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        kind = "NaN" if np.isnan(array[tuple(bad)]) else "inf"
        raise ValueError(
            f"{name} contains {kind} (first at batch {bad[0]}, time step {bad[1]}, "
            f"feature {bad[2]}). Clean or impute the features before calling the model."
        )
    return x


def _is_eager_tensor(x):
    # Only concrete values are checked; symbolic tensors inside a traced function pass.
    return type(x).__name__ == "EagerTensor"
