"""Train a registered regressor on a corpus the way Khorram et al. did: whole recordings,
batch size 1, CCC loss, the dev partition for early stopping."""

import functools
import time
from pathlib import Path

import keras
import numpy as np

from zoo import losses, metrics
from zoo.models.emotion.evaluation import dataset, predict_corpus, score_corpus
from zoo.files import atomic_path
from zoo.plots import plot_predictions
from zoo.pretrained import input_spec
from zoo import registry
from zoo.recipes.cards import settings_of
from zoo.recipes.runs import epoch_order, fit_resumable, write_json
from zoo.validation import check_positive, check_positive_float


def ordered_dataset(corpus, seed, first_epoch, epochs):
    """Whole recordings, one per batch, for epochs `first_epoch .. epochs - 1` in a row, each
    in `epoch_order(seed, epoch)`: a resumed run sees the data an uninterrupted one saw."""
    order = np.concatenate([epoch_order(len(corpus), seed, e) for e in range(first_epoch, epochs)])
    return dataset(corpus, order=order)


def train_on_corpus(training, corpus, out, verbose=1, checkpoint=None):
    """Train `training.model` on the corpus's train_* recordings, score on dev_*, write
    results.

    Writes `model.keras`, `metrics.json` and `predictions.png` into `out`; the weights
    kept are those of the epoch with the lowest dev loss (the paper's early stopping).

    Args:
        training: a `zoo.recipes.training.Training`: the model, its settings, the epochs
            and learning rate (None: `DEFAULTS`) and the seed; `corpus` is its data, read.
        checkpoint: None, or a folder that receives a checkpoint after every epoch; when it
            already holds one, training continues from it (same data order as an
            uninterrupted run, dropout masks included).

    Raises:
        TrainingDiverged: the loss became NaN or inf; the checkpoint of the last good
            epoch stays in `checkpoint`.
    """
    training = training.with_defaults()
    name, epochs, seed = training.model, training.epochs, training.seed
    check_positive(epochs=epochs)
    check_positive_float(learning_rate=training.learning_rate)
    keras.utils.set_random_seed(seed)
    train_set, dev_set = corpus.subset("train"), corpus.subset("dev")
    sizes = {"input_dim": corpus.input_dim, "outputs": len(corpus.dimensions)}

    start = time.time()
    model, saver = fit_resumable(
        functools.partial(registry.build_for_data, name, sizes, **training.settings),
        lambda first: ordered_dataset(train_set, seed, first, epochs), len(train_set),
        epochs, checkpoint, monitor="val_loss", restore_best=True, verbose=verbose,
        compile_with={"optimizer": keras.optimizers.Adam(training.learning_rate),
                      "loss": losses.CCCLoss(),
                      "weighted_metrics": [metrics.CCC(), metrics.RMSE()]},
        validation_data=dataset(dev_set))
    seconds = time.time() - start
    done = saver.resumed_at
    best_epoch, _ = saver.best()
    predictions = predict_corpus(model, dev_set)
    scores = score_corpus(model, dev_set, predictions)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "model.keras") as tmp:  # tmp keeps the .keras suffix
        model.save(tmp)
    summary = {
        "model": name, "settings": model.get_config(), "epochs": epochs,
        "best_epoch": None if best_epoch is None else best_epoch + 1,
        "resumed_at_epoch": done or None,
        "train_seconds": round(seconds, 2), "train_recordings": len(train_set),
        "dev_recordings": len(dev_set), "dev": scores,
        "history": saver.history,
    }
    write_json(out / "metrics.json", summary)
    plot_predictions(dev_set.labels[0], predictions[0], corpus.dimensions,
                     out / "predictions.png", title=f"{name}: {dev_set.names[0]}")
    return model, summary


def corpus_card(data, corpus, summary, model, command):
    """The card fields of a model trained by `train_on_corpus` on `corpus` (named `data`).

    Args:
        command: the command line that re-creates the run, written as the recipe.
    """
    dev = corpus.subset("dev")
    return {
        "settings": settings_of(model),
        "dataset": data,
        "split": f"train {len(corpus.subset('train'))} / dev {len(dev)} recordings",
        "metrics": {f"dev_ccc_{d}": v for d, v in summary["dev"]["ccc"].items()},
        "tolerance": {},
        "licence": "the data's own licence (AVEC 2016 / RECOLA: by agreement)",
        "head": ["head"],
        "head_settings": ["outputs"],
        "recipe": command,
        "examples": {"about": f"the first 50 frames of {dev.names[0]}",
                     "inputs": input_spec(dev.features[0][None, :50].astype("float32"))},
    }
