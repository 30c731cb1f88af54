"""Tutorial 01: quickstart. Get a model by name, fit it on your own CSV files, evaluate,
save, load; then load pretrained weights and check them against their card.

Your data here: one CSV file per recording (a column per sensor channel, a row per frame)
and a `labels.csv` naming each file's class. The tutorial writes such a folder from the
bundled BasicMotions smart-watch recordings (6 channels, 4 activities) so that it runs
anywhere; point `--data` at your own folder of the same layout to use yours.

1. Read the CSV folder with pandas, split train/test, standardise with training statistics.
2. `zoo.get("gru_classifier", input_dim=..., classes=...)`, then plain Keras: compile, fit
   with a callback, evaluate.
3. Save to `.keras`, load it back (safe mode: no code runs from the file), compare.
4. `zoo.get("gru_classifier", weights="japanese_vowels")`: checksum-verified weights; score
   them on the held-out split named on their card.

    python tutorials/01_quickstart.py [--fast] [--out tutorial_out/01] [--data FOLDER]

Writes `OUT/training.png` (loss and accuracy per epoch), `OUT/confusion.png`,
`OUT/model.keras` and `OUT/scores.json`. The full run takes about a minute on 2 CPU cores.
"""

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import zoo  # noqa: E402
from zoo.files import write_text  # noqa: E402
from zoo.plots import FAST_NOTICE, epoch_axis, pyplot, save_png  # noqa: E402

FULL = dict(units=64, epochs=60)
FAST = dict(units=8, epochs=2)


def write_example_folder(folder):
    """BasicMotions (train and test) as one CSV per recording plus labels.csv."""
    folder = Path(folder)
    rows = []
    for split in ("train", "test"):
        data = zoo.data.load_uea("BasicMotions", split)
        for i, (frames, label) in enumerate(zip(data.sequences, data.labels)):
            name = f"{split}_{i:03d}.csv"
            columns = ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
            write_text(folder / name, pd.DataFrame(frames, columns=columns).to_csv(index=False))
            rows.append({"file": name, "label": data.classes[label], "split": split})
    write_text(folder / "labels.csv", pd.DataFrame(rows).to_csv(index=False))
    return folder


def read_folder(folder):
    """`(sequences, labels, splits)` from a folder of per-recording CSVs and labels.csv."""
    folder = Path(folder)
    table = pd.read_csv(folder / "labels.csv")
    sequences = [pd.read_csv(folder / f).to_numpy("float32") for f in table["file"]]
    return sequences, table["label"].to_numpy(), table["split"].to_numpy()


def pad(sequences, length):
    """End-pads with 0-frames, which the classifier masks."""
    out = np.zeros((len(sequences), length, sequences[0].shape[1]), "float32")
    for i, s in enumerate(sequences):
        out[i, : len(s)] = s
    return out


def plot_training(history, path):
    plt = pyplot()
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, key, label in ((a, "loss", "cross-entropy (nats)"), (b, "accuracy", "accuracy")):
        ax.plot(epochs, history[key], marker="o", label="train")
        ax.plot(epochs, history[f"val_{key}"], marker="o", label="test")
        epoch_axis(ax, len(epochs))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    a.set_title("loss per epoch")
    b.set(title="accuracy per epoch", ylim=(0, 1.02))
    fig.suptitle(f"gru_classifier on the CSV folder: {len(epochs)} epochs")
    return save_png(fig, path)


def plot_confusion(truth, predicted, classes, path):
    plt = pyplot()
    counts = np.zeros((len(classes), len(classes)), int)
    np.add.at(counts, (truth, predicted), 1)
    fig, ax = plt.subplots(figsize=(5, 4.6))
    ax.imshow(counts, cmap="Blues", vmin=0)
    for (i, j), n in np.ndenumerate(counts):
        dark = n > counts.max() / 2
        ax.text(j, i, n, ha="center", va="center", fontsize=12,
                color="white" if dark else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted class", ylabel="true class")
    accuracy = float(np.mean(np.asarray(truth) == np.asarray(predicted)))
    ax.set_title(f"test set: accuracy {accuracy:.3f} ({len(truth)} recordings)")
    return save_png(fig, path)


def run(out, fast=False, seed=0, data=None):
    settings = FAST if fast else FULL
    if fast:
        print(FAST_NOTICE)
    out = Path(out)
    keras.utils.set_random_seed(seed)

    # 1. Your data: a folder of CSVs.
    folder = Path(data) if data else write_example_folder(out / "csv_data")
    sequences, labels, splits = read_folder(folder)
    classes = sorted(set(labels))
    y = np.array([classes.index(c) for c in labels])
    train, test = splits == "train", splits == "test"
    frames = np.concatenate([s for s, t in zip(sequences, train) if t])
    mean, std = frames.mean(0), frames.std(0) + 1e-8
    x = pad([(s - mean) / std for s in sequences], max(len(s) for s in sequences))
    print(f"read {len(sequences)} recordings from {folder}: {train.sum()} train, "
          f"{test.sum()} test, {x.shape[-1]} channels, classes {classes}")

    # 2. A model by name; plain Keras from here on.
    model = zoo.get("gru_classifier", input_dim=x.shape[-1], classes=len(classes),
                    units=settings["units"])
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x[train], y[train], validation_data=(x[test], y[test]),
                        epochs=settings["epochs"], batch_size=8, verbose=0,
                        callbacks=[keras.callbacks.TerminateOnNaN()])
    loss, accuracy = model.evaluate(x[test], y[test], verbose=0)
    # The whole split in one batch: predict then traces one function per model (a partial
    # last batch would trace a second, and TensorFlow warns when traces pile up).
    whole = int(test.sum())
    probabilities = model.predict(x[test], batch_size=whole, verbose=0)
    predicted = np.argmax(probabilities, -1)
    print(f"gru_classifier: test accuracy {accuracy:.3f} after {settings['epochs']} epochs")

    # 3. Save, load, compare.
    model.save(out / "model.keras")
    loaded = keras.models.load_model(out / "model.keras")
    same = bool(np.allclose(loaded.predict(x[test], batch_size=whole, verbose=0),
                            probabilities, atol=1e-6))
    print(f"saved {out / 'model.keras'}; the loaded copy predicts the same: {same}")

    # 4. Pretrained weights, checked against their card. The entry standardises raw frames
    # itself with its card's training statistics.
    card = zoo.pretrained.card("gru_classifier.japanese_vowels")
    pretrained = zoo.get("gru_classifier", weights="japanese_vowels")
    vowels = zoo.data.load_uea("JapaneseVowels", "test")
    xv, _ = vowels.padded()
    pretrained_accuracy = float(np.mean(np.argmax(pretrained.predict(xv, batch_size=len(xv),
                                                                     verbose=0), -1)
                                        == vowels.labels))
    print(f"gru_classifier.japanese_vowels: test accuracy {pretrained_accuracy:.4f} "
          f"(card: {card['metrics']['accuracy']:.4f}; recipe: {card['recipe']})")

    plot_training(history.history, out / "training.png")
    plot_confusion(y[test], predicted, classes, out / "confusion.png")
    scores = {"test_accuracy": float(accuracy), "reloaded_predicts_the_same": same,
              "pretrained_accuracy": pretrained_accuracy,
              "pretrained_card_accuracy": card["metrics"]["accuracy"]}
    write_text(out / "scores.json", json.dumps(scores, indent=2))
    print(f"plots: {out / 'training.png'}, {out / 'confusion.png'}")
    return scores


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true", help="a tiny model, 2 epochs")
    parser.add_argument("--out", default="tutorial_out/01",
                        help="output folder (default: tutorial_out/01)")
    parser.add_argument("--data", help="your folder of per-recording CSVs and labels.csv")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args(argv)
    run(args.out, args.fast, args.seed, args.data)


if __name__ == "__main__":
    main()
