"""The RNNPB on bundled motion sets (UEA): settings, training, and the shipped recipe.

`learn_uea(name)` trains an RNNPB on the training split of a bundled UEA set (labels are
kept for analysis, never read by learning); `zoo.models.rnnpb.reports` measures it.
"""

import keras
import numpy as np

from zoo.data.uea import load_uea
from zoo.models.rnnpb.reports import recognition_report
from zoo.pretrained import input_spec
from zoo.recipes.cards import settings_of
from zoo import registry

#: Settings per bundled set, chosen on the training split and kept fixed for the test
#: split. `compress` puts standing (0.3 g) and running (10 g) on comparable scales.
SETTINGS = {
    "BasicMotions": dict(units=32, pb_dim=2, cell="elman", compress=0.05, scaling="standard",
                         dropout=0.0, epochs=200,
                         batch_size=8, learning_rate=3e-3, steps=400, starts=8),
    # Chosen when sequences over UNROLL_MAX frames ran one update per compiled call, hence
    # a single start; kept so that the published score stays reproducible.
    "PickupGestureWiimoteZ": dict(units=32, pb_dim=2, cell="elman", compress=None,
                                  scaling="standard", dropout=0.0, epochs=200, batch_size=8, learning_rate=3e-3, steps=400,
                                  starts=1),
}
MODEL_KEYS = ("units", "pb_dim", "cell", "compress", "scaling", "dropout", "pca_components")


def learn_uea(name, seed=0, verbose=0, **overrides):
    """Trains an RNNPB on `name`'s training split with `SETTINGS[name]` (plus overrides).

    Returns:
        `(model, train)`: the trained model and the training `LabelledSequences`.
    """
    if name not in SETTINGS:
        raise ValueError(f"No RNNPB recipe for {name!r}. Available: {', '.join(SETTINGS)}.")
    recipe = {**SETTINGS[name], **overrides}
    keras.utils.set_random_seed(seed)
    train = load_uea(name, "train")
    model = registry.build("rnnpb", **{k: recipe[k] for k in MODEL_KEYS if k in recipe})
    model.compile(optimizer=keras.optimizers.Adam(recipe["learning_rate"]))
    model.fit(train, epochs=recipe["epochs"], batch_size=recipe["batch_size"], verbose=verbose)
    return model, train


def recipe(name, data, seed=0, verbose=0):
    """The RNNPB on a bundled motion set with `SETTINGS[data]`; the score is the
    nearest-class-mean accuracy of the recognised test PBs (labels never read by learning)."""
    model, train = learn_uea(data, seed=seed, verbose=verbose)
    recipe = SETTINGS[data]
    test = load_uea(data, "test")
    report = recognition_report(model, test, steps=recipe["steps"], starts=recipe["starts"])
    frames = np.stack([test.sequences[0][:20], test.sequences[-1][:20]]).astype("float32")
    pbs = model.pb_table.numpy()[[0, -1]]
    return model, {
        "settings": settings_of(model),
        "build": [model.num_sequences, None, model.channels],
        "dataset": f"{data} (bundled UEA set)",
        "split": f"train {len(train)} / test {len(test)} sequences",
        "metrics": {"nearest_class_accuracy": report["accuracy"]},
        "tolerance": {"nearest_class_accuracy": 0.075},
        "checks": {"diagonal_smallest": bool(report["diagonal_smallest"]),
                   "recognition_error": list(report["errors"])},
        "examples": {"about": "one-step predictions: the first 20 frames of the first and last "
                              "test sequences, with the first and last training PBs",
                     "inputs": [input_spec(frames), input_spec(pbs)]},
        "notes": (f"PB table of the {len(train)} training sequences included, labels in "
                  f"settings.sequence_labels; recognition {recipe['steps']} Adadelta updates x "
                  f"{recipe['starts']} starts; each recognised class mean nearest its own "
                  f"training class mean: {report['diagonal_smallest']}"),
    }
