import pytest

import zoo
from zoo.registry import register_model


def test_list_models_filters_with_fnmatch():
    assert zoo.list_models("emotion_*") == [
        "emotion_blstm", "emotion_dilated", "emotion_downup", "emotion_filter"]
    assert zoo.list_models("*downup") == ["emotion_downup"]
    assert zoo.list_models("nothing*") == []


def test_get_returns_uncompiled_model_with_overrides():
    model = zoo.get("emotion_dilated", input_dim=12, outputs=1, depth=3)
    assert model.input_shape == (None, None, 12)
    assert model.output_shape == (None, None, 1)
    assert model.depth == 3
    assert not model.compiled


def test_unknown_name_suggests_closest():
    with pytest.raises(ValueError, match="emotion_downup"):
        zoo.get("emotion_dowup")
    with pytest.raises(ValueError, match="Unknown model 'zzz'"):
        zoo.get("zzz")


def test_unknown_pretrained_tag_is_an_error():
    with pytest.raises(ValueError, match="pretrained"):
        zoo.get("emotion_downup", weights="recola")


def test_bad_hyperparameters_are_reported():
    with pytest.raises(ValueError, match="filters"):
        zoo.get("emotion_dilated", filters=0)


def test_info_reports_parameters_field_and_paper():
    info = zoo.info("emotion_dilated")
    assert info["parameters"] == zoo.get("emotion_dilated").count_params()
    assert info["receptive_field"] == 1024
    assert "Khorram" in info["reference"]
    assert info["settings"]["depth"] == 10 and info["settings"]["filters"] == 32
    assert zoo.info("emotion_blstm")["receptive_field"] is None


def test_register_refuses_a_second_model_with_the_same_name():
    with pytest.raises(ValueError, match="already registered"):
        @register_model(name="emotion_downup")
        def other(**kw):  # pragma: no cover
            return None


def test_every_model_cites_its_source():
    for name in zoo.list_models():
        assert zoo.info(name)["reference"], name


# -- strict settings: a misspelled setting is an error with a hint, never ignored -------------
@pytest.mark.parametrize("name, overrides, hint", [
    ("gru_classifier", {"input_dim": 12, "classes": 9, "unit": 8}, "'units'"),
    ("emotion_downup", {"filter": 8}, "'filters'"),
    ("emotion_blstm", {"dropuot": 0.1}, "'dropout'"),
    ("char_lm", {"dept": 1}, "'depth'"),
    ("rnnpb", {"pb_dims": 3}, "'pb_dim'"),
])
def test_unknown_settings_raise_type_error_with_a_close_match(name, overrides, hint):
    with pytest.raises(TypeError, match=f"unknown setting.*did you mean {hint}"):
        zoo.get(name, **overrides)


def test_unknown_settings_raise_with_pretrained_weights_too():
    with pytest.raises(TypeError, match="did you mean 'units'"):
        zoo.get("gru_classifier", weights="japanese_vowels", unit=8)


def test_unknown_settings_of_a_fixed_signature_factory():
    @zoo.register_model(name="_fixed_signature_test")
    def fixed(width=3):
        return width

    try:
        with pytest.raises(TypeError, match="did you mean 'width'"):
            zoo.get("_fixed_signature_test", widht=4)
        assert zoo.get("_fixed_signature_test", width=4) == 4
    finally:
        zoo.registry._MODELS.pop("_fixed_signature_test")


@pytest.mark.parametrize("name, overrides", [
    ("emotion_blstm", {"dropout": 2.0}),
    ("emotion_dilated", {"dropout": -0.1}),
    ("emotion_downup", {"dropout": 1.0}),
    ("gru_classifier", {"recurrent_dropout": 1.5}),
    ("gru_classifier", {"head_dropout": float("nan")}),
    ("char_lm", {"dropout": 1}),
    ("rnnpb", {"dropout": 1.0}),
    ("rnnpb", {"pb_learning_rate": float("nan")}),
    ("rnnpb", {"pb_epsilon": 0}),
    ("rnnpb", {"compress": float("inf")}),
])
def test_rates_are_range_checked(name, overrides):
    with pytest.raises(ValueError, match="must be"):
        zoo.get(name, **overrides)


def test_a_rate_given_as_text_is_a_type_error():
    with pytest.raises(TypeError, match="`dropout` takes a number; its default is 0.0"):
        zoo.get("peephole_lstm_regressor", dropout="0.1")


def test_a_setting_called_name_is_the_models_name():
    assert zoo.get("gru_classifier", name="mine").name == "mine"


def test_every_model_declares_the_data_it_takes():
    from zoo import registry

    assert {registry.task(n) for n in zoo.list_models()} <= set(registry.TASKS)
    assert None not in {registry.task(n) for n in zoo.list_models()}
    assert registry.task("emotion_downup") == "frames"
    assert "gru_classifier" in registry.models_for("classes")
    assert "gru_classifier" not in registry.models_for("frames")
    with pytest.raises(ValueError, match=r"gru_regressor takes frame-labelled recordings .*; "
                                         r"P holds sequences with one class each .*Models "
                                         r"for it: .*gru_classifier"):
        registry.check_task("gru_regressor", "classes", "P")
    with pytest.raises(ValueError, match="`task` must be one of"):
        registry.register_model(lambda: None, name="x", task="pictures")
