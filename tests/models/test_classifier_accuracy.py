"""Issue 3 acceptance on real data: BasicMotions 1.0 test accuracy. JapaneseVowels (>= 0.97)
is checked by tests/test_recipes.py, which retrains the shipped entries' recipes."""

import pytest

from zoo.recipes.uea import train_classifier


@pytest.mark.slow
@pytest.mark.parametrize("name", ["peephole_lstm_classifier", "gru_classifier"])
@pytest.mark.parametrize("dataset, threshold", [("BasicMotions", 1.0)])
def test_reaches_published_accuracy(name, dataset, threshold):
    _, accuracy, history = train_classifier(name, dataset, seed=0)
    assert history.history["accuracy"][-1] > 0.95
    assert accuracy >= threshold, f"{name} on {dataset}: test accuracy {accuracy:.4f}"
