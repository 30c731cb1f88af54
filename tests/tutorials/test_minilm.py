"""The real pretrained text encoder: all-MiniLM-L6-v2 exported as a hub module, offline."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.hub import HubEncoder


@pytest.fixture(scope="module")
def minilm(minilm_module):
    from zoo.models.text import minilm_encoder

    return minilm_module, minilm_encoder(sequence_length=16)


@pytest.mark.slow
def test_minilm_hub_module_matches_the_keras_model_and_knows_paraphrases(minilm):
    path, model = minilm
    sentences = ["A man is playing a guitar.", "Someone plays the guitar.",
                 "The stock market fell sharply today."]
    direct = model(tf.constant(sentences)).numpy()
    encoder = HubEncoder(path)
    via_hub = encoder(tf.constant(sentences)).numpy()
    np.testing.assert_allclose(via_hub, direct, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(via_hub, axis=1), 1.0, atol=1e-5)
    similarity = via_hub @ via_hub.T
    assert similarity[0, 1] > 0.7 and similarity[0, 2] < 0.2  # paraphrase vs unrelated


@pytest.mark.slow
def test_minilm_frozen_then_top_block_trained_on_vader(minilm):
    path, _ = minilm
    data = zoo.data.load_vader_movies().subset(np.arange(64))
    encoder = HubEncoder(path, name="encoder")
    model = keras.Sequential([keras.Input((), dtype="string"), encoder,
                              keras.layers.Dense(1, name="head")])
    model.compile(optimizer="adam", loss=zoo.losses.CCCLoss())
    ds = tf.data.Dataset.from_tensor_slices((data.texts, data.scores[:, None])).batch(16)
    before = [v.numpy().copy() for v in encoder.weights]
    zoo.finetune.fit_stages(model, ds, stages=[zoo.finetune.Stage(1, trainable="head")], verbose=0)
    assert all(np.array_equal(b, v.numpy()) for b, v in zip(before, encoder.weights))
    encoder.train_only = "transformer_layer_5"
    zoo.finetune.fit_stages(model, ds, stages=[zoo.finetune.Stage(1, trainable="all",
                                                                  learning_rate=1e-4)], verbose=0)
    changed = {v.name for b, v in zip(before, encoder.weights) if not np.array_equal(b, v.numpy())}
    assert changed and all("transformer_layer_5" in name for name in changed)


@pytest.mark.slow
def test_minilm_valence_entry_reproduces_its_card_and_orders_sentiment():
    from zoo import pretrained

    model = zoo.get("minilm_valence", weights="vader_movies")
    card = pretrained.card("minilm_valence.vader_movies", examples=True)
    np.testing.assert_allclose(pretrained.predict_examples(model, card),
                               card["examples"]["outputs"], atol=1e-4)
    scores = model(tf.constant(["a moving, beautifully acted and funny film",
                                "a dull, lifeless and badly written mess"])).numpy()[:, 0]
    assert scores[0] > 1.0 > -1.0 > scores[1]
    # The encoder stays frozen: fit moves the head only.
    assert not model.encoder.trainable and model.head.trainable
    assert len(model.trainable_weights) == 4
    with pytest.raises(ValueError, match="trained with hidden=128"):
        zoo.get("minilm_valence", weights="vader_movies", hidden=64)


@pytest.mark.slow
def test_text_models_take_python_lists_numpy_arrays_and_tensors():
    model = zoo.get("minilm_valence", weights="vader_movies")
    sentences = ["a fine film", "a dull film"]
    want = model(tf.constant(sentences)).numpy()
    for given in (sentences, tuple(sentences), np.array(sentences), np.array(sentences, object)):
        np.testing.assert_allclose(model(given).numpy(), want, atol=1e-5)
        np.testing.assert_allclose(model.predict(given, verbose=0), want, atol=1e-5)
    assert want[0, 0] > want[1, 0]
    np.testing.assert_allclose(model.encoder(sentences).numpy(),
                               model.encoder(tf.constant(sentences)).numpy(), atol=1e-6)
    model.compile("adam", "mse")
    history = model.fit(sentences, np.array([[1.0], [-1.0]]), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert np.isfinite(model.evaluate(np.array(sentences), np.zeros((2, 1)), verbose=0))
    for bad, message in (("one sentence", "not one string"), ([1, 2], "must be strings"),
                         ([], "is empty")):
        with pytest.raises(TypeError, match=message):
            model.predict(bad, verbose=0)
