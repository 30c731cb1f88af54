"""Polyphonic music on the bundled Bach chorales: training, scoring, and the shipped recipe.

Every next-frame model (`music_rnn` over any cell, `linear_ar`, `feedforward_ar`) trains
the same way: Adam with gradient clipping on batches of 8 chorales of similar length (each
batch cut to its longest chorale: padding every chorale to the longest would triple the
work), a new batch order every epoch, binary cross-entropy from logits, and the epoch with
the best validation NLL kept (patience 20). The score is the NLL per time step in nats,
summed over keys, on the held-out chorales (`zoo.models.music`).
"""

import time

import keras
import numpy as np
import tensorflow as tf

from zoo import registry
from zoo.data.chorales import KEYS, load_chorales
from zoo.models.music import independent_notes_nll, nll_per_timestep
from zoo.pretrained import input_spec
from zoo.recipes.cards import settings_of

#: The shipped entry: the best model of `benchmarks/music.py` (README), the bilinear cell
#: with a CP-16 tensor at the parameter count of a 64-unit GRU.
SETTINGS = {"model": {"cell": "bilinear", "units": 108,
                      "cell_options": {"tensor_format": "cp", "rank": 16}},
            "epochs": 150, "batch_size": 8, "learning_rate": 3e-3, "patience": 20}


def chorale_data(seed=0):
    """`{"train"|"valid"|"test": (x, y, mask)}` next-frame arrays and the `Chorales`."""
    chorales = {part: load_chorales(part, seed=seed) for part in ("train", "valid", "test")}
    return {part: c.next_step() for part, c in chorales.items()}, chorales


def length_batches(x, y, mask, batch_size, seed):
    """Batches of chorales of similar length, each cut to its longest, in a new order every
    epoch; `(dataset, steps per epoch)`."""
    lengths = mask.sum(1).astype(int)
    order = np.argsort(lengths, kind="stable")
    groups = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]

    def generate():
        rng = np.random.default_rng(seed)
        while True:
            for g in rng.permutation(len(groups)):
                rows = groups[g]
                last = lengths[rows].max()
                yield x[rows, :last], y[rows, :last], mask[rows, :last]

    spec = (tf.TensorSpec((None, None, KEYS)), tf.TensorSpec((None, None, KEYS)),
            tf.TensorSpec((None, None)))
    return tf.data.Dataset.from_generator(generate, output_signature=spec), len(groups)


def fit_music(model, data, epochs=150, seed=0, learning_rate=3e-3, batch_size=8,
              patience=20, verbose=0):
    """Trains a next-frame model on `data` (from `chorale_data`); returns the seconds taken
    and the number of epochs run."""
    model.compile(keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                  keras.losses.BinaryCrossentropy(from_logits=True))
    stop = keras.callbacks.EarlyStopping("val_loss", patience=patience,
                                         restore_best_weights=True)
    batches, steps = length_batches(*data["train"], batch_size=batch_size, seed=seed)
    start = time.perf_counter()
    history = model.fit(batches, steps_per_epoch=steps, validation_data=data["valid"],
                        epochs=epochs, verbose=verbose, callbacks=[stop], shuffle=False)
    return time.perf_counter() - start, len(history.history["loss"])


def recipe(name, data, seed=0, verbose=0):
    """`music_rnn` on the bundled chorales with `SETTINGS`; test NLL per time step."""
    arrays, chorales = chorale_data()
    keras.utils.set_random_seed(seed)
    model = registry.build(name, **SETTINGS["model"])
    seconds, epochs = fit_music(model, arrays, SETTINGS["epochs"], seed,
                                SETTINGS["learning_rate"], SETTINGS["batch_size"],
                                SETTINGS["patience"], verbose)
    nll = {part: nll_per_timestep(model, *arrays[part]) for part in ("valid", "test")}
    baseline = independent_notes_nll(chorales["train"].rolls, chorales["test"].rolls)
    x_test = arrays["test"][0]
    return model, {
        "settings": settings_of(model),
        "dataset": "Bach chorales: 348 four-part chorales from music21 10.5.1's corpus, "
                   "quarter-note piano rolls over 88 keys (bundled, zoo.data.load_chorales)",
        "split": f"by chorale, seed 0: train {len(chorales['train'])} / valid "
                 f"{len(chorales['valid'])} / test {len(chorales['test'])}",
        "metrics": {"test_nll_per_timestep": nll["test"]},
        "tolerance": {"test_nll_per_timestep": 0.1},
        "examples": {"about": "logits of the next frame over the first 8 beats of 2 test "
                              "chorales",
                     "inputs": input_spec(x_test[:2, :8].astype("float32"))},
        "notes": (f"nats per time step summed over 88 keys; valid {nll['valid']:.3f}; the "
                  f"independent-notes baseline scores {baseline:.3f} on test; best of "
                  f"{epochs} epochs (early stopping on valid), {seconds:.0f} s on 2 CPU "
                  f"cores"),
    }
