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


# The longest tests of `make test` (its --durations lines, 2026-12), started first: run
# last, one of them keeps a worker busy while the other has nothing left to do. `make test`
# hands tests out one by one (--maxschedchunk 1), so the first two go to one worker and the
# next two to the other: 283 + 163 s against 256 + 225 s.
LONGEST = (
    "tests/backends/test_backends.py::test_trained_files_and_the_pretrained_rnnpb_agree",
    "tests/distribute/test_distribute.py::test_zoo_train_distributed_runs_fail_together",
    "tests/test_readme.py::test_every_readme_block_runs_as_written",
    "tests/distribute/test_distribute.py::test_two_devices_match_one_device",
    "tests/test_tasks.py::test_gated_cells_solve_the_adding_problem_at_200_steps",
    "tests/models/test_emotion_learning.py::",
    "tests/distribute/test_distribute.py::test_two_jax_processes_match_one",
    "tests/tutorials/test_tutorials.py::",
)


def _rank(item):
    return next((i for i, prefix in enumerate(LONGEST) if item.nodeid.startswith(prefix)),
                len(LONGEST))


def pytest_collection_modifyitems(config, items):
    items.sort(key=_rank)  # stable: the rest keep their order
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
