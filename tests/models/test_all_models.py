"""Every registered model: builds, runs forward and backward, round-trips through .keras
and get_config/from_config. A newly registered model is covered automatically."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo

# Small settings so the whole sweep runs in seconds; models not listed use their defaults.
TINY = {
    "emotion_dilated": {"depth": 4, "filters": 4},
    "emotion_downup": {"filters": 4},
    "emotion_blstm": {"units": 4, "depth": 1},
    "emotion_filter": {"length": 16},
}
INPUT_DIM, OUTPUTS, LENGTH = 6, 2, 50


def _build(name):
    return zoo.get(name, input_dim=INPUT_DIM, outputs=OUTPUTS, **TINY.get(name, {}))


@pytest.fixture
def batch():
    return np.random.default_rng(0).normal(size=(2, LENGTH, INPUT_DIM)).astype("float32")


@pytest.mark.parametrize("name", zoo.list_models())
def test_forward_and_backward(name, batch):
    model = _build(name)
    assert isinstance(model, keras.Model)
    with tf.GradientTape() as tape:
        out = model(batch, training=True)
        loss = zoo.losses.CCCLoss()(np.ones_like(out) * np.arange(LENGTH)[:, None], out)
    assert out.shape == (2, LENGTH, OUTPUTS)
    grads = tape.gradient(loss, model.trainable_weights)
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
    assert any(np.abs(g.numpy()).sum() > 0 for g in grads)


@pytest.mark.parametrize("name", zoo.list_models())
def test_keras_file_round_trip(name, batch, tmp_path):
    model = _build(name)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # safe_mode: no code runs from the file
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(batch, verbose=0),
                                  model.predict(batch, verbose=0))


@pytest.mark.parametrize("name", zoo.list_models())
def test_config_round_trip(name, batch):
    model = _build(name)
    clone = type(model).from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(batch), model(batch), atol=1e-6)


@pytest.mark.parametrize("name", zoo.list_models())
def test_fits_with_plain_keras_and_tf_data(name, batch):
    model = _build(name)
    model.compile(optimizer="adam", loss=zoo.losses.CCCLoss(), metrics=[zoo.metrics.CCC()])
    y = np.cumsum(batch[..., :OUTPUTS], axis=1)
    ds = tf.data.Dataset.from_tensor_slices((batch, y)).batch(1)
    history = model.fit(ds, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
