"""Every registered model, with no exclusions: builds, runs forward and backward,
round-trips through .keras and get_config/from_config, and fits the way its users fit it.
A newly registered model is covered automatically. Portable: these run on every Keras
backend (`zoo.backend`); the MiniLM text model is TensorFlow-only and says so elsewhere."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

import zoo
from zoo import backend

pytestmark = pytest.mark.portable

# Small settings so the whole sweep runs in seconds; models not listed use their defaults.
TINY = {
    "emotion_dilated": {"depth": 4, "filters": 4},
    "emotion_downup": {"filters": 4},
    "emotion_blstm": {"units": 4, "depth": 1},
    "emotion_filter": {"length": 16},
    "char_lm": {"units": 4, "depth": 1, "embedding_dim": 3},
    "bilinear_char_lm": {"units": 4, "depth": 1, "embedding_dim": 3},
    "rnnpb": {"units": 4},
    "minilm_valence": {"sequence_length": 8, "hidden": 4},
}
INPUT_DIM, OUTPUTS, LENGTH, CLASSES = 6, 2, 50, 3
MODELS = [m for m in zoo.list_models() if backend.name() == "tensorflow" or m != "minilm_valence"]
SENTENCES = np.array(["a gripping, beautiful film", "a dull mess"])


def _case(name):
    """(model, x, y, loss) for a registered model, by its task (declared with its factory)
    and sized as its data would size it (`zoo.registry.build_for_data`)."""
    rng = np.random.default_rng(0)
    task = zoo.registry.task(name)
    overrides = dict(TINY.get(name, {}))
    if task in ("classes", "frames", "rolls") and "units" in zoo.info(name)["settings"]:
        overrides.setdefault("units", 4)
    if task == "pb":
        # Built as its first fit would build it; called on (frames, pb), predicts next frames.
        model = zoo.get(name, **overrides)
        model.build((2, None, INPUT_DIM))
        frames = rng.normal(size=(2, LENGTH, INPUT_DIM)).astype("float32")
        x = {"frames": frames, "pb": rng.normal(size=(2, model.pb_dim)).astype("float32")}
        return model, x, np.roll(frames, -1, 1), keras.losses.MeanSquaredError()
    if task == "sentences":
        model = zoo.get(name, **overrides)
        return model, SENTENCES, np.array([[2.0], [-1.5]], "float32"), keras.losses.MeanSquaredError()
    if task == "tokens":
        vocabulary = overrides.pop("vocabulary", "abcde")
        model = zoo.registry.build_for_data(name, {"vocabulary": vocabulary}, **overrides)
        x = rng.integers(0, model.vocabulary_size, size=(2, LENGTH)).astype("int32")
        return model, x, np.roll(x, -1, 1), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    x = rng.normal(size=(2, LENGTH, INPUT_DIM)).astype("float32")
    sizes = {"input_dim": INPUT_DIM, "classes": CLASSES, "outputs": OUTPUTS}
    if task == "classes":
        model = zoo.registry.build_for_data(name, sizes, **overrides)
        return model, x, np.array([0, 2]), keras.losses.SparseCategoricalCrossentropy()
    # frames and piano rolls: a value per output and frame
    model = zoo.get(name, input_dim=INPUT_DIM, outputs=OUTPUTS, **overrides)
    y = np.cumsum(x[..., :OUTPUTS], axis=1)
    return model, x, y, zoo.losses.CCCLoss()


@pytest.mark.parametrize("name", MODELS)
def test_forward_and_backward(name):
    model, x, y, loss_fn = _case(name)
    assert isinstance(model, keras.Model)

    def loss():
        out = model(x, training=True)
        return loss_fn(y, out), out

    _, out, _, grads = backend.value_and_grad(loss, [], model.trainable_weights, model=model)
    assert out.shape[0] == 2
    grads = [ops.convert_to_numpy(g) for g in grads]
    assert all(np.isfinite(g).all() for g in grads)
    assert any(np.abs(g).sum() > 0 for g in grads)


@pytest.mark.parametrize("name", MODELS)
def test_keras_file_round_trip(name, tmp_path):
    model, x, _, _ = _case(name)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = zoo.load_model(path)  # zoo's archive checks, then Keras's safe mode
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("name", MODELS)
def test_config_round_trip(name):
    model, x, _, _ = _case(name)
    clone = type(model).from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    if not clone.built:  # built by its data (the RNNPB): rebuilt as Keras's loader does
        clone.build_from_config(model.get_build_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(ops.convert_to_numpy(clone(x)), ops.convert_to_numpy(model(x)),
                               atol=1e-6)


@pytest.mark.parametrize("name", MODELS)
def test_fits_with_plain_keras_and_tf_data(name):
    model, x, y, loss = _case(name)
    if zoo.registry.task(name) == "pb":
        # Learning mode: the PB table and the weights from the sequences alone (eq. 2).
        model.compile(optimizer="adam")
        history = model.fit(x["frames"], epochs=2, verbose=0)
    else:
        model.compile(optimizer="adam", loss=loss)
        ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(1)
        history = model.fit(ds, epochs=2, verbose=0, shuffle=False)  # the dataset orders itself
    assert np.isfinite(history.history["loss"]).all()
