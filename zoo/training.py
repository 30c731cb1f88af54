"""Train a registered regressor on a corpus the way Khorram et al. did: whole recordings,
batch size 1, CCC loss, the dev partition for early stopping."""

import json
import time
from pathlib import Path

import keras
import numpy as np

from zoo import losses, metrics
from zoo.evaluation import dataset, predict_corpus, score_corpus
from zoo.files import atomic_path, write_text
from zoo.plots import plot_predictions
from zoo.registry import get


def train_on_corpus(name, corpus, out, epochs=30, learning_rate=1e-3, overrides=None,
                    seed=0, verbose=1):
    """Train `name` on the corpus's train_* recordings, score on dev_*, write results.

    Writes `model.keras`, `metrics.json` and `predictions.png` into `out`; the weights
    kept are those of the epoch with the lowest dev loss (the paper's early stopping).
    """
    keras.utils.set_random_seed(seed)
    train_set, dev_set = corpus.subset("train"), corpus.subset("dev")
    model = get(name, input_dim=corpus.input_dim, outputs=len(corpus.dimensions),
                **(overrides or {}))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=losses.CCCLoss(),
                  weighted_metrics=[metrics.CCC(), metrics.RMSE()])
    start = time.time()
    history = model.fit(
        dataset(train_set, shuffle=True, seed=seed), epochs=epochs,
        validation_data=dataset(dev_set), verbose=verbose,
        # Never stops early; only brings back the weights of the best dev epoch.
        callbacks=[keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=epochs, restore_best_weights=True)],
    )
    seconds = time.time() - start
    predictions = predict_corpus(model, dev_set)
    scores = score_corpus(model, dev_set, predictions)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "model.keras") as tmp:  # tmp keeps the .keras suffix
        model.save(tmp)
    summary = {
        "model": name, "settings": model.get_config(), "epochs": epochs,
        "best_epoch": int(np.argmin(history.history["val_loss"])) + 1,
        "train_seconds": round(seconds, 2), "train_recordings": len(train_set),
        "dev_recordings": len(dev_set), "dev": scores,
    }
    write_text(out / "metrics.json", json.dumps(summary, indent=2, default=str))
    plot_predictions(dev_set.labels[0], predictions[0], corpus.dimensions,
                     out / "predictions.png", title=f"{name}: {dev_set.names[0]}")
    return model, summary
