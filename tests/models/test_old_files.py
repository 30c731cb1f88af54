"""`.keras` files written by an earlier zoo load in this one with the same predictions: one
small file per registered model in `tests/models/files/` (see its `write.py`), written
once and kept, so a change to a layer's arguments or weights that breaks users' saved
models fails here. Loading them on JAX and PyTorch is tests/backends' job."""

from pathlib import Path

import numpy as np
import pytest

import zoo
from tests.models.files.write import NAMES

FILES = Path(__file__).resolve().parent / "files"


def _inputs(arrays):
    if "x" in arrays:
        return arrays["x"]
    return {key.removeprefix("x."): arrays[key] for key in arrays if key.startswith("x.")}


@pytest.mark.parametrize("name", NAMES)
def test_files_written_by_earlier_versions_load_alike(name):
    path = FILES / f"{name}.keras"
    assert path.exists(), f"{path} is missing: run `python -m tests.models.files.write`"
    with np.load(FILES / f"{name}.npz", allow_pickle=False) as arrays:
        arrays = dict(arrays)
    model = zoo.load_model(path)
    got = np.asarray(model(_inputs(arrays), training=False))
    np.testing.assert_allclose(got, arrays["y"], rtol=1e-5, atol=1e-6)
