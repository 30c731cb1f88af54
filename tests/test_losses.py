import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.portable import numpy
from zoo import backend
from zoo.losses import EPSILON, CCCLoss, ccc

# Marked `portable`: the CCC against its reference and its gradients, on every backend.
portable = pytest.mark.portable
# Fewer random cases off TensorFlow: JAX compiles every new shape, and the maths is the
# same `keras.ops` code the TensorFlow run checks on the full set.
CASES = 1.0 if backend.name() == "tensorflow" else 0.25


def reference_ccc(y, p, w):
    """Weighted CCC of 1-D arrays, straight from Lin's definition (population moments)."""
    y, p, w = (np.asarray(a, np.float64) for a in (y, p, w))
    n = w.sum()
    if n == 0:
        return 0.0
    mt, mp = (w * y).sum() / n, (w * p).sum() / n
    vt, vp = (w * (y - mt) ** 2).sum() / n, (w * (p - mp) ** 2).sum() / n
    cov = (w * (y - mt) * (p - mp)).sum() / n
    return 2 * cov / (vt + vp + (mt - mp) ** 2 + EPSILON)


values = st.floats(-10, 10, width=32)


@st.composite
def batches(draw):
    b = draw(st.integers(1, 4))
    t = draw(st.integers(1, 40))
    d = draw(st.integers(1, 3))
    y = draw(hnp.arrays(np.float32, (b, t, d), elements=values))
    constant = draw(st.booleans())
    if constant:
        p = np.full_like(y, draw(values))
    else:
        p = draw(hnp.arrays(np.float32, (b, t, d), elements=values))
    mask = draw(hnp.arrays(np.float32, (b, t), elements=st.sampled_from([0.0, 1.0])))
    return y, p, mask


def _close(a, b):
    # 1e-5 relative to the scale of the statistic (CCC lies in [-1, 1]).
    np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)


@portable
@settings(max_examples=int(60 * CASES), deadline=None)
@given(batches())
def test_ccc_batch_unit_matches_reference(data):
    y, p, mask = data
    got = np.asarray(ccc(y, p, mask, unit="batch"))
    want = [reference_ccc(y[..., k].ravel(), p[..., k].ravel(), mask.ravel())
            for k in range(y.shape[-1])]
    _close(got, want)


@portable
@settings(max_examples=int(60 * CASES), deadline=None)
@given(batches())
def test_ccc_sequence_unit_matches_reference(data):
    y, p, mask = data
    got = np.asarray(ccc(y, p, mask, unit="sequence"))
    want = [[reference_ccc(y[i, :, k], p[i, :, k], mask[i]) for k in range(y.shape[-1])]
            for i in range(y.shape[0])]
    _close(got, want)


@portable
@settings(max_examples=int(40 * CASES), deadline=None)
@given(batches())
def test_loss_is_one_minus_mean_ccc_over_unmasked_sequences(data):
    y, p, mask = data
    per_seq = [[reference_ccc(y[i, :, k], p[i, :, k], mask[i]) for k in range(y.shape[-1])]
               for i in range(y.shape[0]) if mask[i].sum() > 0]
    want = 1.0 - (np.mean(per_seq) if per_seq else 0.0)
    _close(float(CCCLoss()(y, p, sample_weight=mask)), want)
    pooled = [reference_ccc(y[..., k].ravel(), p[..., k].ravel(), mask.ravel())
              for k in range(y.shape[-1])]
    _close(float(CCCLoss(unit="batch")(y, p, sample_weight=mask)), 1.0 - np.mean(pooled))
@portable
def test_identical_sequences_score_one():
    y = np.random.default_rng(0).normal(size=(3, 50, 2)).astype("float32")
    _close(np.asarray(ccc(y, y)), [1.0, 1.0])
    _close(float(CCCLoss()(y, y)), 0.0)
@portable
def test_masked_frames_never_enter_the_statistics():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(2, 30, 1)).astype("float32")
    p = rng.normal(size=(2, 30, 1)).astype("float32")
    mask = np.ones((2, 30), "float32")
    mask[:, 20:] = 0
    garbage_y, garbage_p = y.copy(), p.copy()
    garbage_y[:, 20:] = 1e6
    garbage_p[:, 20:] = -1e6
    _close(np.asarray(ccc(garbage_y, garbage_p, mask)), np.asarray(ccc(y[:, :20], p[:, :20])))
    _close(float(CCCLoss()(garbage_y, garbage_p, mask)), float(CCCLoss()(y[:, :20], p[:, :20])))


@portable
@pytest.mark.parametrize("length", [1, 5])
@pytest.mark.parametrize("unit", ["sequence", "batch"])
def test_constant_and_length_one_sequences_have_finite_value_and_gradient(length, unit):
    y = np.full((2, length, 2), 0.5, "float32")
    for start in (np.full((2, length, 2), 0.5), np.full((2, length, 2), -1.0)):
        loss, _, (grad,), _ = backend.value_and_grad(
            lambda p: (CCCLoss(unit=unit)(y, p), None), [start.astype("float32")])
        assert np.isfinite(float(numpy(loss)))
        assert np.isfinite(numpy(grad)).all()
@portable
def test_loss_gradient_improves_concordance():
    rng = np.random.default_rng(2)
    y = rng.normal(size=(2, 40, 1)).astype("float32")
    p = rng.normal(size=(2, 40, 1)).astype("float32")
    before = float(numpy(CCCLoss()(y, p)))
    for _ in range(50):
        _, _, (grad,), _ = backend.value_and_grad(lambda p: (CCCLoss()(y, p), None), [p])
        p = p - 20.0 * numpy(grad)
    assert float(numpy(CCCLoss()(y, p))) < before - 0.5
@portable
def test_bad_arguments():
    with pytest.raises(ValueError, match="unit"):
        CCCLoss(unit="frame")
    with pytest.raises(ValueError, match="same shape"):
        ccc(np.zeros((2, 5, 1)), np.zeros((2, 6, 1)))
    with pytest.raises(ValueError, match="time, outputs"):
        ccc(np.zeros(5), np.zeros(5))


def test_loss_config_round_trip():
    loss = CCCLoss(unit="batch")
    again = CCCLoss.from_config(loss.get_config())
    assert again.unit == "batch" and again.name == loss.name


def test_constant_float32_sequences_score_exactly_zero():
    # Regression: float32 rounding of the mean once gave 4.5e-05 here instead of 0.
    y = np.full((1, 19, 1), 4.6427336, "float32")
    mask = np.ones((1, 19), "float32")
    mask[0, [0, 16]] = 0
    np.testing.assert_allclose(np.asarray(ccc(y, y, mask, unit="sequence")), [[0.0]], atol=1e-6)


# -- masked frames may hold anything; shapes must agree; weights are never negative -----------
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("unit", ["sequence", "batch"])
def test_masked_nan_or_inf_changes_nothing(bad, unit):
    """Loss, metric and gradient equal those of the same data with the frame removed."""
    import zoo

    rng = np.random.default_rng(5)
    y = rng.normal(size=(2, 12, 2)).astype("float32")
    p = rng.normal(size=(2, 12, 2)).astype("float32")
    mask = np.ones((2, 12), "float32")
    mask[:, 7] = 0
    y_bad, p_bad = y.copy(), p.copy()
    y_bad[:, 7] = bad
    p_bad[0, 7, 1] = bad
    keep = np.delete(np.arange(12), 7)
    loss = CCCLoss(unit=unit)

    def value_and_grad(y, p, m):
        p = tf.Variable(p)
        with tf.GradientTape() as tape:
            value = loss(y, p, sample_weight=m)
        return float(value), tape.gradient(value, p).numpy()

    value, grad = value_and_grad(y_bad, p_bad, mask)
    want, want_grad = value_and_grad(y[:, keep], p[:, keep], mask[:, keep])
    assert np.isfinite(value) and np.isfinite(grad).all()
    np.testing.assert_allclose(value, want, atol=1e-6)
    np.testing.assert_allclose(grad[:, keep], want_grad, atol=1e-6)
    np.testing.assert_array_equal(grad[:, 7], 0.0)
    for cls in (zoo.metrics.CCC, zoo.metrics.RMSE):
        metric, clean = cls(), cls()
        metric.update_state(y_bad, p_bad, sample_weight=mask)
        clean.update_state(y[:, keep], p[:, keep])
        np.testing.assert_allclose(metric.result(), clean.result(), atol=1e-6)
    np.testing.assert_allclose(ccc(y_bad, p_bad, mask, unit=unit),
                               ccc(y[:, keep], p[:, keep], unit=unit), atol=1e-6)


def test_masked_nan_labels_leave_fitted_weights_finite():
    import keras

    rng = np.random.default_rng(6)
    x = rng.normal(size=(4, 20, 3)).astype("float32")
    y = np.tanh(x[..., :1])
    mask = np.ones((4, 20), "float32")
    mask[:, 15:] = 0
    y[:, 15:] = np.nan  # unannotated frames
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile("adam", CCCLoss())
    history = model.fit(x, y, sample_weight=mask, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert all(np.isfinite(w).all() for w in model.get_weights())


@pytest.mark.parametrize("unit", ["sequence", "batch"])
def test_every_unit_refuses_labels_of_another_shape(unit):
    y = np.zeros((2, 10, 1), "float32")
    p = np.zeros((2, 10, 2), "float32")
    with pytest.raises(ValueError, match="same shape"):
        CCCLoss(unit=unit)(y, p)


def test_traced_shapes_with_unknown_sizes_still_refuse_other_widths():
    import keras

    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile("adam", CCCLoss())
    x = np.zeros((2, 10, 3), "float32")
    with pytest.raises(ValueError, match="same shape"):
        model.fit(x, np.zeros((2, 10, 1), "float32"), epochs=1, verbose=0)


def test_negative_or_nan_weights_are_refused():
    import zoo

    y = np.zeros((1, 5, 1), "float32")
    for weights in (np.array([[1, 1, -1, 1, 1]], "float32"), np.array([[1, np.nan, 1, 1, 1]])):
        with pytest.raises(ValueError, match="finite and >= 0"):
            CCCLoss()(y, y, sample_weight=weights)
        with pytest.raises(ValueError, match="finite and >= 0"):
            zoo.metrics.CCC().update_state(y, y, sample_weight=weights)
        with pytest.raises(ValueError, match="finite and >= 0"):
            ccc(y, y, mask=weights)


MIRRORED = """
import json, sys
import numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, zoo

def build():
    keras.utils.set_random_seed(0)
    model = zoo.get("emotion_dilated", input_dim=4, outputs=2, depth=2, filters=4)
    model.compile(keras.optimizers.SGD(0.1), loss=zoo.losses.CCCLoss(),
                  weighted_metrics=[zoo.metrics.CCC(), zoo.metrics.RMSE()])
    return model

def scores(model):
    logs = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    return {k: np.asarray(v, "float64").ravel().tolist() for k, v in logs.items()}

rng = np.random.default_rng(0)
x = rng.normal(size=(8, 30, 4)).astype("float32")
y = (np.cumsum(x[..., :2], axis=1) + 100.0).astype("float32")  # an offset for the metric
single = build()
before = scores(single)
single.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
with tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]).scope():
    mirrored = build()
    before_mirrored = scores(mirrored)
    mirrored.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
gap = max(float(np.abs(a - b).max()) for a, b in zip(single.get_weights(), mirrored.get_weights()))
print(json.dumps({"single": before, "mirrored": before_mirrored, "weight_gap": gap}))
"""


def test_ccc_loss_and_metrics_are_the_same_under_a_two_replica_mirrored_strategy():
    import json
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    numbers = json.loads(result.stdout.strip().splitlines()[-1])
    # Each replica scores its own half of the batch (unit="sequence" averages sequences, so
    # the halves' mean equals the whole batch's), and the gradients add up to one device's.
    for key in ("loss", "ccc", "rmse"):
        np.testing.assert_allclose(numbers["mirrored"][key], numbers["single"][key], rtol=1e-5,
                                   atol=1e-7, err_msg=key)
    assert numbers["weight_gap"] < 1e-5
