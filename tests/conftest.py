"""Shared test set-up.

The suite runs on TensorFlow. Tests marked `portable` run again under JAX and PyTorch:
`KERAS_BACKEND=jax pytest tests` (or torch) keeps only those, since every other test
holds a TensorFlow-only path (the XLA loops, exports, TF Hub) or repeats what the
portable ones cover. `make test` starts one process per backend.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402

BACKEND = keras.backend.backend()


def pytest_collection_modifyitems(config, items):
    if BACKEND == "tensorflow":
        return
    kept = [item for item in items if item.get_closest_marker("portable")]
    dropped = [item for item in items if not item.get_closest_marker("portable")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)
