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
