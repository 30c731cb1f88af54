"""The paper's claims on data where they should hold (slow tests, about 90 s).

On `recola_like` recordings, whose slow targets need tens of seconds of context:
- `emotion_dilated` and `emotion_downup` trained with CCCLoss reach dev CCC >= 0.8 and
  beat the one-filter model with a short (8-frame) filter (Khorram et al., Figure 1);
- the down/up network's output has less power above the targets' band than the dilated
  network's (Figure 5).
"""

import numpy as np
import pytest

from zoo.data.synthetic import recola_like
from zoo.models.emotion.evaluation import band_edge, high_frequency_share, predict_corpus
from zoo.recipes.avec import train_on_corpus
from zoo.recipes.training import Training

pytestmark = pytest.mark.slow

RUNS = {
    "emotion_dilated": {},
    "emotion_downup": {},
    "emotion_filter": {"length": 8, "filters": 2},  # one short filter per dimension
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    corpus = recola_like(train=9, dev=3, length=3000, input_dim=32, seed=1).znorm()
    results = {}
    for name, overrides in RUNS.items():
        out = tmp_path_factory.mktemp(name)
        training = Training(name, "recola_like", overrides, epochs=60, learning_rate=1e-3)
        model, summary = train_on_corpus(training, corpus, out, verbose=0)
        results[name] = (model, summary)
    return corpus.subset("dev"), results


def test_long_context_models_reach_high_dev_ccc_and_beat_a_short_filter(trained, capsys):
    _, results = trained
    scores = {name: summary["dev"]["ccc"] for name, (_, summary) in results.items()}
    with capsys.disabled():
        for name, ccc in scores.items():
            print(f"\n  dev CCC {name:16s} " + "  ".join(f"{k} {v:.3f}" for k, v in ccc.items()))
    short = np.mean(list(scores["emotion_filter"].values()))
    for name in ("emotion_dilated", "emotion_downup"):
        assert min(scores[name].values()) >= 0.8, (name, scores[name])
        assert np.mean(list(scores[name].values())) > short + 0.1, (name, short)


def test_downup_output_is_smoother_than_dilated(trained, capsys):
    dev, results = trained
    share = {}
    for name in ("emotion_dilated", "emotion_downup"):
        predictions = predict_corpus(results[name][0], dev)
        share[name] = np.mean([
            high_frequency_share(p[:, k], band_edge(y[:, k]))
            for y, p in zip(dev.labels, predictions) for k in range(y.shape[1])
        ])
    with capsys.disabled():
        print("\n  output power above the target band (95% of target power): "
              + ", ".join(f"{k} {v:.4f}" for k, v in share.items()))
    assert share["emotion_downup"] < share["emotion_dilated"]
