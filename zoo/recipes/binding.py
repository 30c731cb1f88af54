"""Variable binding (Mathews' thesis, section 5.1.2): can a cell hold several bindings at once?"""

import time

import keras
import numpy as np

from zoo import registry
from zoo.data.synthetic import variable_binding


def train_binding(cell, pairs=8, symbols=16, units=64, batch=64, max_steps=3000, target=0.99,
                  learning_rate=3e-3, check_every=100, seed=0, cell_options=None,
                  verbose=False):
    """Trains a `<cell>_classifier` on variable binding until test accuracy >= `target`.

    Returns:
        A dict: `cell`, `solved` (bool), `steps`, `accuracy` (last, on 1000 fresh
        sequences), `chance`, `parameters`, `curve` (list of `(step, accuracy)`), `seconds`.
    """
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = registry.build(f"{cell}_classifier", input_dim=2 * symbols + 1, classes=symbols,
                           units=units, **({"cell_options": cell_options} if cell_options else {}))
    model.compile(keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    x_test, y_test = variable_binding(1000, pairs, symbols, np.random.default_rng(seed + 1000))
    curve, start, step, accuracy = [], time.perf_counter(), 0, 0.0
    while step < max_steps:
        for _ in range(check_every):
            model.train_on_batch(*variable_binding(batch, pairs, symbols, rng))
        step += check_every
        accuracy = float(model.evaluate(x_test, y_test, batch_size=500, verbose=0)[1])
        curve.append((step, accuracy))
        if verbose:
            print(f"{cell} step {step} test accuracy {accuracy:.3f}", flush=True)
        if accuracy >= target:
            break
    return {"cell": cell, "solved": accuracy >= target, "steps": step, "accuracy": accuracy,
            "chance": 1.0 / symbols, "parameters": model.count_params(), "curve": curve,
            "seconds": time.perf_counter() - start}
