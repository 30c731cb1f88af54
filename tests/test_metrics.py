import keras
import numpy as np
import pytest

import zoo
from tests.test_losses import reference_ccc
from zoo import backend

# On every backend: float64 statistics where the backend has float64, else float32 with
# compensated sums (JAX), held to float32 precision.
pytestmark = pytest.mark.portable
FINE = 1e-9 if backend.float64_available() else 1e-6


def test_streaming_ccc_equals_ccc_of_concatenation():
    rng = np.random.default_rng(0)
    recordings = [(rng.normal(size=(1, n, 2)), rng.normal(size=(1, n, 2)) + 0.3)
                  for n in (17, 40, 5, 61)]
    metric = zoo.metrics.CCC()
    for y, p in recordings:
        metric.update_state(y, p)
    y_all = np.concatenate([y[0] for y, _ in recordings])
    p_all = np.concatenate([p[0] for _, p in recordings])
    want = [reference_ccc(y_all[:, k], p_all[:, k], np.ones(len(y_all))) for k in range(2)]
    np.testing.assert_allclose(metric.result(), want, atol=1e-6)
    # Differs from averaging per-batch scores, which is what it must not do.
    per_batch = np.mean([np.asarray(zoo.losses.ccc(y, p)) for y, p in recordings], axis=0)
    assert np.abs(per_batch - np.asarray(want)).max() > 1e-3


def test_streaming_metrics_respect_masks_and_reset():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(3, 20, 1)).astype("float32")
    p = rng.normal(size=(3, 20, 1)).astype("float32")
    mask = (rng.uniform(size=(3, 20)) > 0.3).astype("float32")
    ccc, rmse = zoo.metrics.CCC(), zoo.metrics.RMSE()
    for i in range(3):
        ccc.update_state(y[i:i + 1], p[i:i + 1], sample_weight=mask[i:i + 1])
        rmse.update_state(y[i:i + 1], p[i:i + 1], sample_weight=mask[i:i + 1])
    keep = mask.ravel() > 0
    want_ccc = reference_ccc(y.ravel()[keep], p.ravel()[keep], np.ones(keep.sum()))
    want_rmse = np.sqrt(np.mean((y.ravel()[keep] - p.ravel()[keep]) ** 2))
    np.testing.assert_allclose(ccc.result(), [want_ccc], atol=1e-6)
    np.testing.assert_allclose(rmse.result(), [want_rmse], atol=1e-6)
    ccc.reset_state()
    ccc.update_state(y, y)
    np.testing.assert_allclose(ccc.result(), [1.0], atol=1e-6)


def test_output_count_mismatch_is_reported():
    metric = zoo.metrics.CCC(outputs=2)
    with pytest.raises(ValueError, match="2 outputs"):
        metric.update_state(np.zeros((1, 4, 3)), np.zeros((1, 4, 3)))


def test_metrics_work_in_fit_and_evaluate_with_sample_weights():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 30, 3)).astype("float32")
    y = x[..., :2] * 0.5
    mask = np.ones((4, 30), "float32")
    mask[:, 25:] = 0
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile("adam", zoo.losses.CCCLoss(),
                  weighted_metrics=[zoo.metrics.CCC(), zoo.metrics.RMSE()])
    model.fit(x, y, sample_weight=mask, epochs=1, verbose=0)
    result = model.evaluate(x, y, sample_weight=mask, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)
    keep = mask.ravel() > 0
    want = [reference_ccc(y[..., k].ravel()[keep], p[..., k].ravel()[keep], np.ones(keep.sum()))
            for k in range(2)]
    np.testing.assert_allclose(result["ccc"], want, atol=1e-5)


@pytest.mark.parametrize("offset", [1e4, 1e8])
def test_streaming_ccc_keeps_precision_on_a_large_offset(offset):
    if offset > 1e6 and not backend.float64_available():
        pytest.skip("unit noise on 1e8 is not representable in float32 inputs")
    rng = np.random.default_rng(3)
    y = rng.normal(size=(6, 50, 2)) + offset
    p = 0.8 * (y - offset) + 0.3 * rng.normal(size=y.shape) + offset
    if not backend.float64_available():  # the inputs as this backend holds them
        y, p = y.astype("float32").astype("float64"), p.astype("float32").astype("float64")
    metric = zoo.metrics.CCC()
    for i in range(6):
        metric.update_state(y[i:i + 1], p[i:i + 1])
    want = np.asarray(zoo.losses.ccc(y, p))
    want_ref = [reference_ccc(y[..., k].ravel() - offset, p[..., k].ravel() - offset,
                              np.ones(y[..., k].size)) for k in range(2)]
    np.testing.assert_allclose(want, want_ref, atol=1e-6)
    np.testing.assert_allclose(metric.result(), want, atol=1e-6)


def test_streaming_ccc_merges_batches_of_any_size_and_empty_ones():
    rng = np.random.default_rng(4)
    y, p = rng.normal(size=(1, 90, 1)), rng.normal(size=(1, 90, 1))
    metric = zoo.metrics.CCC()
    for a, b in ((0, 1), (1, 1), (1, 40), (40, 41), (41, 90)):  # (1, 1): no frames
        metric.update_state(y[:, a:b], p[:, a:b])
    np.testing.assert_allclose(metric.result(), zoo.losses.ccc(y, p), atol=FINE)
