import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

import zoo


@pytest.fixture(scope="module")
def downup():
    return zoo.get("emotion_downup", input_dim=3, filters=2)


def test_downup_output_length_equals_input_length_for_every_length(downup):
    run = tf.function(lambda x: downup(x), reduce_retracing=True,
                      input_signature=[tf.TensorSpec((1, None, 3), tf.float32)])
    for length in list(range(1, 1001)) + [7501]:
        out = run(tf.zeros((1, length, 3)))
        assert out.shape[1] == length, length


@settings(max_examples=25, deadline=None)
@given(length=st.integers(1, 3000), factor=st.integers(2, 4), stages=st.integers(1, 4))
def test_downup_length_property_over_configurations(length, factor, stages):
    model = zoo.get("emotion_downup", input_dim=2, filters=2, factor=factor, stages=stages)
    assert model(np.zeros((1, length, 2), "float32")).shape == (1, length, 2)


def _constant_weights(model, value):
    for w in model.weights:
        w.assign(np.full(w.shape, value if "kernel" in w.path else 0.0, "float32"))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("depth,kernel_size", [(10, 2), (5, 3)])
def test_dilated_receptive_field_matches_impulse_response(causal, depth, kernel_size):
    model = zoo.get("emotion_dilated", input_dim=1, outputs=1, filters=2, depth=depth,
                    kernel_size=kernel_size, causal=causal)
    # Positive weights and a positive impulse keep every ReLU open, so each output that
    # depends on the impulse frame moves.
    _constant_weights(model, 1.0 / (2 * kernel_size))
    length, where = 4 * model.receptive_field, 2 * model.receptive_field
    x = np.zeros((1, length, 1), "float32")
    x[0, where, 0] = 1.0
    touched = np.flatnonzero(np.abs(np.asarray(model(x))[0, :, 0]) > 0)
    assert len(touched) == model.receptive_field
    if (depth, kernel_size) == (10, 2):  # the paper's network, as `zoo.info` reports it
        assert zoo.info("emotion_dilated")["receptive_field"] == len(touched) == 1024
    assert touched.max() - touched.min() + 1 == model.receptive_field
    if causal:
        assert touched.min() == where  # only the present and the future see it
    else:
        assert touched.min() < where < touched.max()


def test_filter_receptive_field_matches_impulse_response():
    model = zoo.get("emotion_filter", input_dim=1, outputs=1, length=37)
    _constant_weights(model, 0.1)
    x = np.zeros((1, 200, 1), "float32")
    x[0, 100, 0] = 1.0
    touched = np.flatnonzero(np.abs(np.asarray(model(x))[0, :, 0]) > 0)
    assert len(touched) == model.receptive_field == 37


def test_downup_receptive_field_bounds_the_dependence():
    model = zoo.get("emotion_downup", input_dim=1, outputs=1, filters=2)
    field = model.receptive_field
    assert 3**4 < field < 2000
    x = tf.Variable(np.random.default_rng(0).normal(size=(1, 3000, 1)).astype("float32"))
    with tf.GradientTape() as tape:
        out = model(x)[0, 1500, 0]
    grad = np.abs(tape.gradient(out, x).numpy()[0, :, 0])
    touched = np.flatnonzero(grad > 0)
    assert touched.max() - touched.min() + 1 <= field


@pytest.mark.parametrize("name", zoo.list_models("emotion_*"))
def test_bad_input_names_the_problem(name):
    model = zoo.get(name, input_dim=4, outputs=2)
    with pytest.raises(ValueError, match="4 features|input_dim=4"):
        model.predict(np.zeros((1, 10, 5), "float32"), verbose=0)
    bad = np.zeros((1, 10, 4), "float32")
    bad[0, 3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN.*time step 3"):
        model.predict(bad, verbose=0)
    bad[0, 3, 1] = np.inf
    with pytest.raises(ValueError, match="inf"):
        model(bad)
    with pytest.raises(ValueError, match="empty sequence"):
        model.predict(np.zeros((1, 0, 4), "float32"), verbose=0)
    with pytest.raises(ValueError, match="batch, time, features"):
        model.predict(np.zeros((10, 4), "float32"), verbose=0)
    model.compile(optimizer="adam", loss=zoo.losses.CCCLoss())
    with pytest.raises(ValueError, match="NaN"):
        model.fit(np.full((1, 10, 4), np.nan, "float32"), np.zeros((1, 10, 2)), verbose=0)


def test_blstm_is_the_keras_layer_users_would_pick():
    model = zoo.get("emotion_blstm", input_dim=4, units=3, depth=1)
    layer = model.get_layer("blstm_0")
    assert isinstance(layer, keras.layers.Bidirectional)
    assert isinstance(layer.forward_layer, keras.layers.LSTM)
