"""Synthetic tasks that probe what a recurrent cell can remember."""

import time

import keras
import numpy as np

from zoo.models.recurrent import recurrent_layer


def adding_problem(batch, length, rng):
    """One batch of the adding problem (Hochreiter & Schmidhuber 1997).

    Each sequence has two channels: values drawn uniformly from [0, 1), and a marker that
    is 1 at two steps, one in each half, and 0 elsewhere. The target is the sum of the two
    marked values. Predicting the mean, 1, scores a mean squared error of 1/6 (about 0.167).

    Returns:
        `(x, y)`: float32 arrays `(batch, length, 2)` and `(batch, 1)`.
    """
    values = rng.random((batch, length)).astype("float32")
    markers = np.zeros((batch, length), dtype="float32")
    rows = np.arange(batch)
    first = rng.integers(0, length // 2, batch)
    second = rng.integers(length // 2, length, batch)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    y = (values[rows, first] + values[rows, second])[:, None]
    return np.stack([values, markers], -1), y


def train_adding(cell, length=200, units=64, batch=64, max_steps=3000, target=0.01,
                 learning_rate=1e-2, check_every=100, seed=0, verbose=False):
    """Trains `cell` on the adding problem until the test MSE is below `target`.

    Returns:
        A dict: `cell`, `solved` (bool), `steps` (training steps taken), `test_mse` (last),
        `curve` (list of `(step, test_mse)`), `seconds`.
    """
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = keras.Sequential(
        [keras.Input((length, 2)), recurrent_layer(cell, units), keras.layers.Dense(1)]
    )
    model.compile(keras.optimizers.Adam(learning_rate, clipnorm=1.0), "mse")
    x_test, y_test = adding_problem(1000, length, np.random.default_rng(seed + 1000))
    curve, start, step, mse = [], time.perf_counter(), 0, float("inf")
    while step < max_steps:
        for _ in range(check_every):
            model.train_on_batch(*adding_problem(batch, length, rng))
        step += check_every
        mse = float(model.evaluate(x_test, y_test, batch_size=500, verbose=0))
        curve.append((step, mse))
        if verbose:
            print(f"{cell} step {step} test MSE {mse:.4f}", flush=True)
        if mse < target:
            break
    return {
        "cell": cell,
        "solved": mse < target,
        "steps": step,
        "test_mse": mse,
        "curve": curve,
        "seconds": time.perf_counter() - start,
    }
