"""Writes the `.keras` file of every registered model, as `tests/models/test_all_models.py`
builds it, next to this script, with its input and the predictions it gave when saved:

    python -m tests.models.files.write          # the missing ones, on TensorFlow
    python -m tests.models.files.write --all    # every one again

`test_files_written_by_earlier_versions_load_alike` loads them. They are the compatibility
promise, so they are written once by one version of zoo and kept: a new model adds its
file, and `--all` is for a change that means to break old files (say so in the commit).
The MiniLM model is left out: its file holds the whole pretrained encoder (91 MB).
"""

import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
from keras import ops

import zoo
from tests.models.test_all_models import MODELS, _case

HERE = Path(__file__).resolve().parent
COMMIT = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, text=True,
                        capture_output=True).stdout.strip() or "unknown"
NAMES = [name for name in MODELS if name != "minilm_valence"]


def inputs(x):
    """The model input as a dict of arrays (an `.npz` holds no nested objects)."""
    return {f"x.{key}": value for key, value in x.items()} if isinstance(x, dict) else {"x": x}


def write(folder=HERE, every=False):
    for name in NAMES:
        if (folder / f"{name}.keras").exists() and not every:
            continue
        keras.utils.set_random_seed(0)
        model, x, _, _ = _case(name)
        model(x, training=False)  # builds
        rng = np.random.default_rng(1)
        for weight in model.weights:  # away from the initial values, which are often 0 or 1
            if weight.trainable:
                weight.assign(rng.normal(scale=0.3, size=weight.shape).astype(weight.dtype))
        model.save(folder / f"{name}.keras")
        want = ops.convert_to_numpy(model(x, training=False))
        np.savez_compressed(folder / f"{name}.npz", y=want, **inputs(x))
        with open(folder / "WRITTEN", "a") as log:  # which version wrote which file
            log.write(f"{name}: zoo {zoo.__version__}, commit {COMMIT}, keras {keras.__version__}\n")

if __name__ == "__main__":
    write(every="--all" in sys.argv[1:])
