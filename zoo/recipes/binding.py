"""Variable binding (Mathews' thesis, section 5.1.2): can a cell hold several bindings at once?"""

import time

import keras
import numpy as np

from zoo import registry
from zoo.data.synthetic import variable_binding


def train_binding(cell, pairs=8, symbols=16, units=64, batch=64, max_steps=3000, target=0.99,
                  learning_rate=3e-3, check_every=100, seed=0, cell_options=None,
                  curriculum=False, advance_at=0.9, verbose=False):
    """Trains a `<cell>_classifier` on variable binding until test accuracy >= `target`.

    Args:
        curriculum: when True, training starts on sequences of one key/value pair and
            shows one pair more each time the test accuracy on the current number of
            pairs reaches `advance_at` (checked every `check_every` steps), up to `pairs`.
            The model is always scored on `pairs` pairs, so its curve and `solved` compare
            with a run without curriculum step for step. The recurrent classifier reads
            any length, so the same model takes every stage.

    Returns:
        A dict: `cell`, `solved` (bool), `steps`, `accuracy` (last, on 1000 fresh
        sequences of `pairs` pairs), `chance`, `parameters`, `curve` (list of
        `(step, accuracy)`), `stages` (list of `(step, pairs)`: where each number of
        training pairs began), `seconds`.
    """
    if curriculum and not 0.0 < advance_at <= 1.0:
        raise ValueError(f"`advance_at` must be an accuracy in (0, 1]; received {advance_at!r}.")
    if max_steps < 1 or check_every < 1:
        raise ValueError(f"`max_steps` and `check_every` must be at least 1; received "
                         f"{max_steps!r} and {check_every!r}.")
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = registry.build(f"{cell}_classifier", input_dim=2 * symbols + 1, classes=symbols,
                           units=units, **({"cell_options": cell_options} if cell_options else {}))
    model.compile(keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])

    def test_set(shown):  # the full-length set is drawn as before curricula existed
        stream = seed + 1000 if shown == pairs else [seed + 1000, shown]
        return variable_binding(1000, shown, symbols, np.random.default_rng(stream))

    tests = {pairs: test_set(pairs)}
    shown = 1 if curriculum else pairs
    curve, stages, start, step, accuracy = [], [(0, shown)], time.perf_counter(), 0, 0.0
    while step < max_steps:
        for _ in range(min(check_every, max_steps - step)):
            model.train_on_batch(*variable_binding(batch, shown, symbols, rng))
            step += 1
        accuracy = float(model.evaluate(*tests[pairs], batch_size=500, verbose=0)[1])
        curve.append((step, accuracy))
        if verbose:
            print(f"{cell} step {step} ({shown} pairs) test accuracy {accuracy:.3f}", flush=True)
        if accuracy >= target:
            break
        if shown < pairs:
            current = tests.setdefault(shown, test_set(shown))
            if float(model.evaluate(*current, batch_size=500, verbose=0)[1]) >= advance_at:
                shown += 1
                stages.append((step, shown))
    return {"cell": cell, "solved": accuracy >= target, "steps": step, "accuracy": accuracy,
            "chance": 1.0 / symbols, "parameters": model.count_params(), "curve": curve,
            "stages": stages, "seconds": time.perf_counter() - start}
