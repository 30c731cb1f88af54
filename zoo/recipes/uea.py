"""Sequence classifiers on bundled UEA sets: settings, training, and the shipped recipe.

The recipes are the settings measured for issue 3 (`tests/models/test_classifier_accuracy.py`
runs them): channels standardised with the training split's statistics, sequences
end-padded and masked, Adam with a cosine-decayed learning rate, sparse cross-entropy.
"""

from pathlib import Path

import keras
import numpy as np

from zoo.data.uea import load_uea
from zoo.pretrained import input_spec
from zoo.recipes.cards import settings_of
from zoo import registry

#: Settings per data set: model overrides and training settings.
SETTINGS = {
    "JapaneseVowels": {
        "model": {"units": 128, "dropout": 0.2},
        "epochs": 40,
        "batch_size": 16,
        "learning_rate": 2e-3,
    },
    "BasicMotions": {
        "model": {"units": 64, "dropout": 0.2},
        "epochs": 150,
        "batch_size": 8,
        "learning_rate": 3e-3,
    },
}


#: Settings for a bundled set without measured ones (PickupGestureWiimoteZ): the
#: BasicMotions recipe's, the other small set of few channels.
DEFAULT = {"model": {"units": 64, "dropout": 0.2}, "epochs": 150, "batch_size": 8,
           "learning_rate": 3e-3}


def settings_for(dataset):
    """The training settings `zoo train CLASSIFIER --data DATASET` starts from."""
    return SETTINGS.get(dataset, DEFAULT)


def load_split(dataset):
    """`(x_train, y_train, x_test, y_test, classes)`, standardised with training statistics."""
    train, test = load_uea(dataset, "train"), load_uea(dataset, "test")
    mean, std = train.statistics()
    train, test = train.standardized(mean, std), test.standardized(mean, std)
    length = int(max(train.lengths.max(), test.lengths.max()))
    x_train, _ = train.padded(length)
    x_test, _ = test.padded(length)
    return x_train, train.labels, x_test, test.labels, train.classes


def _fit(model, x, y, epochs, batch_size, learning_rate, verbose):
    """Adam with a cosine-decayed learning rate on sparse cross-entropy; the history."""
    steps = epochs * int(np.ceil(len(x) / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.05)
    model.compile(keras.optimizers.Adam(schedule), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=verbose)


def train_classifier(name, dataset, seed=0, verbose=0, **changes):
    """Trains the registered classifier `name` on `dataset` with its recipe.

    Args:
        name: e.g. `"peephole_lstm_classifier"`.
        dataset: a key of `SETTINGS`.
        seed: random seed.
        **changes: overrides of the recipe's `epochs`, `batch_size`, `learning_rate`.

    Returns:
        `(model, test_accuracy, history)`.
    """
    if dataset not in SETTINGS:
        raise ValueError(f"No recipe for {dataset!r}. Available: {', '.join(SETTINGS)}.")
    recipe = {**SETTINGS[dataset], **changes}
    x_train, y_train, x_test, y_test, classes = load_split(dataset)
    keras.utils.set_random_seed(seed)
    sizes = {"input_dim": x_train.shape[-1], "classes": len(classes)}
    model = registry.build_for_data(name, sizes, **recipe["model"])
    history = _fit(model, x_train, y_train, recipe["epochs"], recipe["batch_size"],
                   recipe["learning_rate"], verbose)
    accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), -1) == y_test))
    return model, accuracy, history


def train_on_uea(training, out, verbose=0):
    """`zoo train CLASSIFIER --data DATASET`: any registered sequence classifier on a bundled
    UEA set, from `settings_for(dataset)` with the caller's changes.

    The model is built once, with the training split's per-channel statistics
    (`input_mean`, `input_std`), so the `model.keras` written to `out` takes raw frames,
    end-padded with 0-frames (masked). Scored on the set's test split.

    Args:
        training: a `zoo.recipes.training.Training` whose `data` is a bundled UEA set: the
            model, the caller's settings (over the set's), epochs and learning rate (None:
            the set's) and the seed.

    Returns:
        `(model, summary)`; `summary` is also written to `out/metrics.json`.
    """
    from zoo.recipes.runs import write_json

    name, dataset = training.model, training.data
    recipe = settings_for(dataset)
    epochs = recipe["epochs"] if training.epochs is None else training.epochs
    learning_rate = (recipe["learning_rate"] if training.learning_rate is None
                     else training.learning_rate)
    train, test = load_uea(dataset, "train"), load_uea(dataset, "test")
    mean, std = train.statistics()
    length = int(max(train.lengths.max(), test.lengths.max()))
    (x_train, _), (x_test, _) = train.padded(length), test.padded(length)
    keras.utils.set_random_seed(training.seed)
    model = registry.build_for_data(
        name, {"input_dim": x_train.shape[-1], "classes": len(train.classes)},
        **{**recipe["model"], **training.settings}, input_mean=np.asarray(mean).tolist(),
        input_std=np.asarray(std).tolist())
    batch_size = recipe["batch_size"]
    history = _fit(model, x_train, train.labels, epochs, batch_size, learning_rate, verbose)
    predicted = np.argmax(model.predict(x_test, verbose=0), -1)
    summary = {
        "model": name, "data": f"{dataset} (bundled UEA set)", "epochs": epochs,
        "learning_rate": learning_rate, "batch_size": batch_size,
        "split": f"train {len(train)} / test {len(test)} sequences",
        "test_accuracy": float(np.mean(predicted == test.labels)),
        "train_accuracy": float(history.history["accuracy"][-1]),
        "classes": [str(c) for c in train.classes],
    }
    model.save(Path(out) / "model.keras")
    write_json(Path(out) / "metrics.json", summary)
    return model, summary


def recipe(name, data, seed=0, verbose=0):
    """A `*_classifier` on a bundled UEA set with `SETTINGS[data]`."""
    model, accuracy, history = train_classifier(name, data, seed=seed, verbose=verbose)
    train, test = load_uea(data, "train"), load_uea(data, "test")
    mean, std = train.statistics()
    examples, _ = test.padded()
    return model, {
        "settings": settings_of(model),
        "dataset": f"{data} (bundled UEA set)",
        "split": f"train {len(train)} / test {len(test)} sequences",
        "metrics": {"accuracy": accuracy},
        "tolerance": {"accuracy": 0.02},
        "head": ["head"],
        "head_settings": ["classes"],
        "preprocessing": {
            "about": "each channel standardised with these training-split statistics (the "
                     "loaded model does it: it takes raw frames), end-padded with 0-frames "
                     "(masked); classes index `classes`",
            "mean": np.asarray(mean).round(6).tolist(),
            "std": np.asarray(std).round(6).tolist(),
            "classes": [str(c) for c in train.classes],
        },
        "examples": {"about": "first 3 test sequences, raw (the model standardises them), "
                              "end-padded with 0-frames",
                     "inputs": input_spec(examples[:3].astype("float32"))},
        "notes": f"final training accuracy {history.history['accuracy'][-1]:.3f}",
    }
