"""The adding problem (Hochreiter & Schmidhuber 1997): does a recurrent cell remember?"""

import time

import keras
import numpy as np

from zoo.data.synthetic import adding_problem
from zoo.models.recurrent import recurrent_layer


def train_adding(cell, length=200, units=64, batch=64, max_steps=3000, target=0.01,
                 learning_rate=1e-2, check_every=100, seed=0, cell_options=None, verbose=False):
    """Trains `cell` on the adding problem until the test MSE is below `target`.

    Returns:
        A dict: `cell`, `solved` (bool), `steps` (training steps taken), `test_mse` (last),
        `curve` (list of `(step, test_mse)`), `parameters`, `seconds`.
    """
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = keras.Sequential(
        [keras.Input((length, 2)), recurrent_layer(cell, units, **(cell_options or {})),
         keras.layers.Dense(1)]
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
        "parameters": model.count_params(),
        "seconds": time.perf_counter() - start,
    }
