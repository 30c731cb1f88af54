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
# hands the tests out one at a time in this order (--dist loadgroup --no-loadscope-reorder),
# except that the tests sharing a module- or session-scoped fixture go to one worker
# together (`_group_by_shared_fixture`), so that no fixture is built once per worker.
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


def _group_by_shared_fixture(item):
    """Marks `item` with an `xdist_group` per module- or session-scoped fixture of the
    suite's own (not pytest's or a plugin's) that it uses, named where the fixture lives."""
    for definitions in getattr(item, "_fixtureinfo").name2fixturedefs.values():
        definition = definitions[-1]
        if definition.scope in ("module", "session") and definition.baseid:
            item.add_marker(pytest.mark.xdist_group(definition.baseid))


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    items.sort(key=_rank)  # stable: the rest keep their order
    for item in items:
        _group_by_shared_fixture(item)
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
