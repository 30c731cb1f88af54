"""Sequence classifiers on bundled UEA sets: settings, training, and the shipped recipe.

The recipes are the settings measured for issue 3 (`tests/models/test_classifier_accuracy.py`
runs them): channels standardised with the training split's statistics, sequences
end-padded and masked, Adam with a cosine-decayed learning rate, sparse cross-entropy.
"""

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


def load_split(dataset):
    """`(x_train, y_train, x_test, y_test, classes)`, standardised with training statistics."""
    train, test = load_uea(dataset, "train"), load_uea(dataset, "test")
    mean, std = train.statistics()
    train, test = train.standardized(mean, std), test.standardized(mean, std)
    length = int(max(train.lengths.max(), test.lengths.max()))
    x_train, _ = train.padded(length)
    x_test, _ = test.padded(length)
    return x_train, train.labels, x_test, test.labels, train.classes


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
    model = registry.build(name, input_dim=x_train.shape[-1], classes=len(classes), **recipe["model"])
    steps = recipe["epochs"] * int(np.ceil(len(x_train) / recipe["batch_size"]))
    schedule = keras.optimizers.schedules.CosineDecay(recipe["learning_rate"], steps, alpha=0.05)
    model.compile(
        keras.optimizers.Adam(schedule),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train, y_train, epochs=recipe["epochs"], batch_size=recipe["batch_size"], verbose=verbose
    )
    accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), -1) == y_test))
    return model, accuracy, history


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
