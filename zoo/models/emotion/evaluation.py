"""Corpus-level scoring the way AVEC does it, and the smoothness measure of Khorram et al."""

import numpy as np
import tensorflow as tf

from zoo.metrics import CCC, RMSE


def dataset(corpus, batch_size=1, shuffle=False, seed=0, order=None):
    """A `tf.data.Dataset` of `(features, labels, mask)` over a labelled corpus.

    With `batch_size=1` (the paper's setting) each element is one whole recording,
    unpadded. Larger batches are zero-padded to their longest recording; the mask
    (passed by Keras as `sample_weight`) keeps padded frames out of the loss and metrics.
    `order`: recording indices to go through instead of the corpus once (repeats allowed,
    e.g. several epochs in a fixed order).
    """
    if corpus.labels is None:
        raise ValueError("The corpus has no labels to train or evaluate on.")
    features, labels = corpus.features, corpus.labels
    index = np.arange(len(corpus)) if order is None else np.asarray(order)

    def generate():
        for i in index:
            yield features[i], labels[i], np.ones(len(features[i]), np.float32)

    signature = (
        tf.TensorSpec((None, corpus.input_dim), tf.float32),
        tf.TensorSpec((None, labels[0].shape[-1]), tf.float32),
        tf.TensorSpec((None,), tf.float32),
    )
    ds = tf.data.Dataset.from_generator(generate, output_signature=signature)
    ds = ds.apply(tf.data.experimental.assert_cardinality(len(index)))
    ds = ds.cache() if order is None else ds
    if shuffle:
        ds = ds.shuffle(len(corpus), seed=seed, reshuffle_each_iteration=True)
    return ds.padded_batch(batch_size).prefetch(2)


def predict_corpus(model, corpus):
    """Predictions for each recording on its own (no padding), as a list of arrays."""
    return [np.asarray(model(x[None], training=False))[0] for x in corpus.features]


def score_corpus(model, corpus, predictions=None):
    """CCC and RMSE per dimension over all frames of all recordings concatenated.

    Returns:
        `{"ccc": {dim: value}, "rmse": {dim: value}}`.
    """
    predictions = predict_corpus(model, corpus) if predictions is None else predictions
    ccc, rmse = CCC(), RMSE()
    for y, p in zip(corpus.labels, predictions):
        ccc.update_state(y[None], p[None])
        rmse.update_state(y[None], p[None])
    dims = corpus.dimensions
    return {
        "ccc": dict(zip(dims, map(float, np.asarray(ccc.result())))),
        "rmse": dict(zip(dims, map(float, np.asarray(rmse.result())))),
    }


def band_edge(target, frame_rate=25.0, fraction=0.95):
    """Frequency (Hz) below which `fraction` of the target's power lies."""
    freqs, power = _spectrum(target, frame_rate)
    cumulative = np.cumsum(power) / max(power.sum(), 1e-30)
    return float(freqs[np.searchsorted(cumulative, fraction)])


def high_frequency_share(prediction, edge_hz, frame_rate=25.0):
    """Share of the prediction's (mean-removed) power above `edge_hz`.

    Khorram et al. (Section 5.2, Figure 5) note that over 95% of the power of the
    annotators' traces lies below 1 Hz, and that the dilated network's outputs move too
    fast while the down/up network's are smooth; this number measures that.
    """
    freqs, power = _spectrum(prediction, frame_rate)
    return float(power[freqs > edge_hz].sum() / max(power.sum(), 1e-30))


def _spectrum(signal, frame_rate):
    signal = np.asarray(signal, np.float64).ravel()
    if signal.size < 2:
        raise ValueError("A spectrum needs at least 2 frames.")
    power = np.abs(np.fft.rfft(signal - signal.mean())) ** 2
    return np.fft.rfftfreq(signal.size, d=1.0 / frame_rate), power
