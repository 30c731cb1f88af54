"""Sequential and permuted digits (Mathews' thesis, 5.1.3): a class from 64 pixels in turn."""

import time

import keras
import numpy as np

from zoo import registry
from zoo.data.digits import load_sequential_digits


def train_digits(cell, permuted=False, units=64, epochs=30, batch=64, learning_rate=3e-3,
                 seed=0, cell_options=None, verbose=False):
    """Trains a `<cell>_classifier` on sequential digits; test error after `epochs`.

    Returns:
        A dict: `cell`, `permuted`, `test_error` (last epoch), `best_test_error` and its
        `best_epoch` (reported, never used to stop), `parameters`, `seconds`.
    """
    keras.utils.set_random_seed(seed)
    x, y = load_sequential_digits("train", permuted, seed)
    x_test, y_test = load_sequential_digits("test", permuted, seed)
    model = registry.build(f"{cell}_classifier", input_dim=1, classes=10, units=units,
                           **({"cell_options": cell_options} if cell_options else {}))
    model.compile(keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    start, errors = time.perf_counter(), []
    for epoch in range(epochs):
        model.fit(x, y, batch_size=batch, epochs=1, shuffle=True, verbose=0)
        errors.append(1.0 - float(model.evaluate(x_test, y_test, batch_size=500, verbose=0)[1]))
        if verbose:
            print(f"{cell} epoch {epoch + 1} test error {errors[-1]:.3f}", flush=True)
    best = int(np.argmin(errors))
    return {"cell": cell, "permuted": permuted, "test_error": errors[-1],
            "best_test_error": errors[best], "best_epoch": best + 1,
            "parameters": model.count_params(), "seconds": time.perf_counter() - start}
