"""Recognition of sequences longer than `UNROLL_MAX` (TensorFlow's chunked path)."""

import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.models.rnnpb import pb_updates


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(0)


def _model(cell, rng, units=6):
    model = zoo.get("rnnpb", units=units, pb_dim=2, cell=cell)
    model.fit([rng.normal(size=(20, 3)).astype("float32") for _ in range(3)], epochs=1,
              verbose=0)
    return model


@pytest.mark.parametrize("cell", ["elman", "gru", "peephole_lstm", "jordan"])
def test_chunked_gradient_is_the_exact_gradient(cell, rng):
    model = _model(cell, rng)
    # Chunks of 8 frames keep the compilation small; 38 steps make 4 full chunks and a
    # partial one, and the shorter sequences end inside earlier chunks.
    sequences = [rng.normal(size=(n, 3)).astype("float32") for n in (39, 30, 17)]
    z, mask = model.features_of(sequences)
    z, mask = tf.constant(z), tf.constant(mask)
    pb = tf.constant(rng.normal(size=(3, 2)).astype("float32"))
    compiled = tf.function(
        lambda z, m, p: pb_updates.chunked_errors_and_grad(model, z, m, p, chunk=8),
        jit_compile=True)
    errors, grad = compiled(z, mask, pb)
    with tf.GradientTape() as tape:  # the reference: TensorFlow's own gradient, no XLA
        tape.watch(pb)
        reference = model.sequence_errors(z, mask, pb)
        total = tf.reduce_sum(reference)
    expected = tape.gradient(total, pb)
    np.testing.assert_allclose(errors.numpy(), reference.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad.numpy(), expected.numpy(), rtol=1e-4, atol=1e-6)
    assert np.abs(expected.numpy()).max() > 1e-3  # a gradient worth comparing


def test_long_recognition_compiles_once_per_shape_and_batches_exactly(rng):
    model = _model("elman", rng)
    first = [rng.normal(size=(n, 3)).astype("float32") for n in (150, 140)]
    second = [rng.normal(size=(n, 3)).astype("float32") for n in (155, 133)]  # same padding
    assert pb_updates.pad_to_chunks(*model.features_of(first))[0].shape[1] == 161
    pbs, errors = model.recognize(first, steps=10, chunk=5, verbose=0)
    model.recognize(second, steps=10, chunk=5, verbose=0)
    fn = model._compiled_fns.cache[("updates", 5, True)]
    assert fn.experimental_get_tracing_count() == 1
    assert errors.shape == (10, 2) and np.all(errors[-1] < errors[0])
    one = np.concatenate([model.recognize([s], steps=10, chunk=5, verbose=0)[0] for s in first])
    np.testing.assert_allclose(pbs, one, atol=1e-5)
    # a long sequence and a short window in one call: the short one is padded and masked
    mixed, _ = model.recognize([first[0], first[1][:30]], steps=10, chunk=5, verbose=0)
    alone, _ = model.recognize([first[1][:30]], steps=10, chunk=5, verbose=0)
    np.testing.assert_allclose(mixed[1], alone[0], atol=1e-5)
