"""Tutorial 02: continuous emotion regression with the CCC loss on AVEC 2016-layout data.

The regressors of Khorram et al. (seed `002_*`) predict arousal and valence every 40 ms
from acoustic features. Real per-frame emotion data (RECOLA, AVEC 2016) needs a licence,
so this tutorial writes generated recordings in the same folder layout (features/*.csv,
ratings_gold_standard/{arousal,valence}/*.csv) and reads them back exactly as it would
read yours: pass `--data PATH` to use an AVEC 2016 folder instead. The generated labels
only test the plumbing; their scores say nothing about emotion.

1. `zoo.data.load_avec(folder)`, per-speaker z-normalised features.
2. `emotion_downup` (transposed-convolution down/up network) and `emotion_blstm` (the
   BLSTM baseline), each trained with `zoo.losses.CCCLoss` on whole recordings,
   early-stopped on dev CCC.
3. Corpus-level CCC per dimension on dev; a plot of predictions against the gold standard.
4. Export the better model as a local pretrained entry (checksum and card), register the
   folder and load it back with `zoo.get(..., weights=TAG)`: the machinery of the shipped
   weights, for your own. The same from the command line:
   `zoo train emotion_downup --data avec2016:PATH --out DIR --export-pretrained TAG`.

    python tutorials/02_continuous_emotion.py [--fast] [--out tutorial_out/02] [--data PATH]

Writes `OUT/data/` (the generated recordings), `OUT/<model>_dev.png`, `OUT/weights/`
(manifest.json and the weights) and `OUT/scores.json`. The full run takes about 6 minutes
on 2 CPU cores.
"""

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo.models.emotion.evaluation import dataset, predict_corpus, score_corpus  # noqa: E402
from zoo.files import write_text  # noqa: E402
from zoo.plots import FAST_NOTICE, plot_predictions  # noqa: E402

FULL = dict(length=3001, recordings=6, input_dim=40, epochs=25,
            models={"emotion_downup": {}, "emotion_blstm": {"units": 32, "depth": 1}})
FAST = dict(length=301, recordings=2, input_dim=8, epochs=2,
            models={"emotion_downup": {"filters": 8}, "emotion_blstm": {"units": 4, "depth": 1}})


def train(name, corpus, epochs, overrides, seed):
    keras.utils.set_random_seed(seed)
    train_set, dev_set = corpus.subset("train"), corpus.subset("dev")
    model = zoo.get(name, input_dim=corpus.input_dim, outputs=len(corpus.dimensions), **overrides)
    model.compile(keras.optimizers.Adam(1e-3), loss=zoo.losses.CCCLoss(),
                  weighted_metrics=[zoo.metrics.CCC()])
    model.fit(dataset(train_set, shuffle=True, seed=seed), validation_data=dataset(dev_set),
              epochs=epochs, verbose=0, shuffle=False,  # the dataset shuffles itself
              callbacks=[keras.callbacks.EarlyStopping("val_loss", patience=epochs,
                                                       restore_best_weights=True)])
    return model


def run(out, fast=False, seed=0, data=None):
    settings = FAST if fast else FULL
    if fast:
        print(FAST_NOTICE)
    out = Path(out)
    if data is None:
        data = out / "data"
        generated = zoo.data.synthetic.recola_like(
            train=settings["recordings"], dev=settings["recordings"], length=settings["length"],
            input_dim=settings["input_dim"], seed=seed)
        zoo.data.save_avec(generated, data)
        print(f"wrote generated AVEC-layout recordings to {data}")
    corpus = zoo.data.load_avec(data).znorm()
    dev = corpus.subset("dev")
    print(f"{len(corpus.subset('train'))} train and {len(dev)} dev recordings, "
          f"{corpus.input_dim} features, dimensions {corpus.dimensions}")

    scores, models = {}, {}
    for name, overrides in settings["models"].items():
        model = train(name, corpus, settings["epochs"], overrides, seed)
        predictions = predict_corpus(model, dev)
        scores[name] = score_corpus(model, dev, predictions)["ccc"]
        models[name] = (model, overrides)
        plot_predictions(dev.labels[0], predictions[0], corpus.dimensions, out / f"{name}_dev.png",
                         title=f"{name}: {dev.names[0]}")
        print(f"{name}: dev CCC " + ", ".join(f"{d} {v:.3f}" for d, v in scores[name].items()))

    # Your own weights, with the checksum and card machinery of the shipped ones.
    best = max(scores, key=lambda n: np.mean(list(scores[n].values())))
    model, overrides = models[best]
    settings_used = {"input_dim": corpus.input_dim, "outputs": len(corpus.dimensions), **overrides}
    # overwrite=True: running the tutorial again replaces the entry its last run wrote.
    card = zoo.pretrained.export(
        model, best, "my_corpus", out / "weights", overwrite=True, settings=settings_used,
        dataset=str(data), split=f"dev {len(dev)} recordings",
        metrics={f"dev_ccc_{d}": v for d, v in scores[best].items()}, tolerance={},
        licence="generated data (zoo.data.synthetic)", head=["head"], head_settings=["outputs"],
        recipe="python tutorials/02_continuous_emotion.py",
        examples={"inputs": zoo.pretrained.input_spec(dev.features[0][None, :64])})
    zoo.pretrained.register_directory(out / "weights")
    reloaded = zoo.get(best, weights="my_corpus")
    reproduced = zoo.pretrained.predict_examples(reloaded, card)
    same = bool(np.allclose(reproduced, card["examples"]["outputs"], atol=1e-4))
    print(f"exported {best}.my_corpus to {out / 'weights'} (sha256 {card['sha256'][:12]}...); "
          f"zoo.get({best!r}, weights='my_corpus') reproduces its card's outputs: {same}")

    result = {"dev_ccc": scores, "exported": f"{best}.my_corpus", "reloaded_matches_card": same}
    write_text(out / "scores.json", json.dumps(result, indent=2))
    print(f"plots: {', '.join(str(out / f'{n}_dev.png') for n in scores)}")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true", help="tiny recordings and models")
    parser.add_argument("--out", default="tutorial_out/02",
                        help="output folder (default: tutorial_out/02)")
    parser.add_argument("--data", help="an AVEC 2016-layout folder (default: generate one)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args(argv)
    run(args.out, args.fast, args.seed, args.data)


if __name__ == "__main__":
    main()
