"""Freeze/unfreeze and staged fine-tuning: frozen is bit-identical, rates are as asked."""

import keras
import numpy as np
import pytest

import zoo.finetune as ft

# Plain Keras: the fine-tuning helpers run on every backend.
pytestmark = pytest.mark.portable


def small_model():
    inputs = keras.Input((8,))
    x = keras.layers.Dense(16, activation="relu", name="enc1")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Dense(16, activation="relu", name="enc2")(x)
    outputs = keras.layers.Dense(1, name="head")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", metrics=["mae"])
    return model


def data(n=64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 8)).astype("float32")
    return x, (x[:, :1] * 2 + x[:, 1:2]).astype("float32")


def weights_of(model, names):
    return {n: [w.copy() for w in model.get_layer(n).get_weights()] for n in names}


def test_freeze_and_unfreeze_by_name_index_and_predicate():
    model = small_model()
    frozen = ft.freeze(model, until="bn")
    assert [l.name for l in frozen] == [model.layers[0].name, "enc1", "bn"]
    assert model.get_layer("enc2").trainable and not model.get_layer("enc1").trainable
    ft.freeze(model)
    assert model.trainable_weights == []
    ft.unfreeze(model, top=2)
    assert [l.name for l in model.layers if l.trainable and l.weights] == ["enc2", "head"]
    ft.freeze(model)
    ft.unfreeze(model, from_layer=1)
    assert model.get_layer("enc1").trainable and not model.get_layer("bn").trainable
    ft.unfreeze(model, from_layer=lambda layer: layer.name == "bn", keep_batchnorm_frozen=False)
    assert model.get_layer("bn").trainable
    assert [l.name for l in ft.select(model, ["head", -2])] == ["head", "enc2"]
    with pytest.raises(ValueError, match="No layer matches `until`='nope'"):
        ft.freeze(model, until="nope")
    with pytest.raises(ValueError, match="out of range"):
        ft.select(model, 9)
    with pytest.raises(ValueError, match="not both"):
        ft.unfreeze(model, top=1, from_layer="head")


def test_trainable_summary_counts_match_keras():
    model = small_model()
    ft.freeze(model, until="bn")
    table = ft.trainable_summary(model)
    total = table.set_index("layer").loc["total"]
    assert total["trainable"] == sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert total["frozen"] == sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    assert total["trainable"] + total["frozen"] == model.count_params()
    row = table.set_index("layer").loc["enc1"]
    assert row["trainable"] == 0 and row["frozen"] == 8 * 16 + 16


def test_frozen_stage_leaves_weights_and_batchnorm_statistics_bit_identical():
    keras.utils.set_random_seed(0)
    model = small_model()
    x, y = data()
    before = weights_of(model, ["enc1", "bn", "enc2", "head"])
    history = ft.fit_stages(model, x, y, stages=ft.two_stage("head", top=2, epochs=(2, 1)),
                            batch_size=16, verbose=0)
    after_stage = weights_of(model, ["enc1", "bn"])
    for name in ("enc1", "bn"):  # never trainable in either stage
        for a, b in zip(before[name], after_stage[name]):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(before["head"][0], model.get_layer("head").get_weights()[0])
    assert not np.array_equal(before["enc2"][0], model.get_layer("enc2").get_weights()[0])
    assert history.history["stage"] == [0, 0, 1]
    assert history.history["learning_rate"] == pytest.approx([1e-3, 1e-3, 1e-4])
    assert len(history.history["loss"]) == 3 and len(history.history["mae"]) == 3
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-4)


def test_head_only_stage_changes_only_the_head():
    keras.utils.set_random_seed(1)
    model = small_model()
    x, y = data()
    before = weights_of(model, ["enc1", "bn", "enc2"])
    ft.fit_stages(model, x, y, stages=[ft.Stage(2, trainable="head", learning_rate=1e-2)],
                  verbose=0, validation_data=(x, y))
    after = weights_of(model, ["enc1", "bn", "enc2"])
    for name in before:
        for a, b in zip(before[name], after[name]):
            np.testing.assert_array_equal(a, b)


def test_discriminative_rates_reach_each_layers_optimizer():
    keras.utils.set_random_seed(0)
    model = small_model()
    x, y = data()
    rates = ft.discriminative_rates(model, 1e-2)
    assert list(rates) == ["enc1", "bn", "enc2", "head"]
    assert rates["enc2"] == pytest.approx(1e-2 / 2.6) and rates["enc1"] == pytest.approx(1e-2 / 2.6**3)
    before = model.get_layer("enc1").get_weights()[0].copy()
    history = ft.fit_stages(model, x, y, stages=[ft.Stage(1, trainable="all", learning_rate=rates,
                                                          keep_batchnorm_frozen=False)], verbose=0)
    optimizer = model.optimizer
    assert isinstance(optimizer, ft.LayerwiseOptimizer)
    for name, rate in rates.items():
        assert optimizer.learning_rate_of(name) == pytest.approx(rate)
        assert int(optimizer.optimizers[name].iterations.numpy()) == 2  # 64 / 32 batches
    assert not np.array_equal(before, model.get_layer("enc1").get_weights()[0])
    assert np.isfinite(history.history["loss"]).all()


def test_gradual_unfreezing_adds_one_group_per_stage_top_first():
    model = small_model()
    stages = ft.gradual_unfreezing(model, epochs_per_stage=1, learning_rate=1e-3, factor=2.6)
    assert [s.trainable for s in stages] == [1, 2, 3, 4]
    assert list(stages[1].learning_rate) == ["enc2", "head"]
    x, y = data(32)
    history = ft.fit_stages(model, x, y, stages=stages[:2], verbose=0)
    assert history.history["stage"] == [0, 1]
    assert not model.get_layer("enc1").trainable and model.get_layer("enc2").trainable


def test_bad_schedules_are_reported():
    model = small_model()
    x, y = data(8)
    with pytest.raises(ValueError, match="empty"):
        ft.fit_stages(model, x, y, stages=[])
    with pytest.raises(ValueError, match="positive int"):
        ft.fit_stages(model, x, y, stages=[ft.Stage(0)])
    with pytest.raises(ValueError, match="unknown layers"):
        ft.fit_stages(model, x, y, stages=[ft.Stage(1, learning_rate={"nope": 1e-3})], verbose=0)
    bare = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="Compile the model first"):
        ft.fit_stages(bare, x, y, stages=[ft.Stage(1)])
