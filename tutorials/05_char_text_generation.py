"""Tutorial 05: character-level text generation on Shakespeare.

The lecture seeds' character model (`001_*`, `003_*`): embed each character, run a GRU,
predict the next character; sample to generate. Data: five plays bundled with zoo (Hamlet,
Macbeth, King Lear, Othello, The Tempest; public domain); the last 10% of each is held out.

1. Train your own `char_lm` with plain Keras and measure bits per character (bpc) on the
   held-out text: the mean number of bits the model needs to code each next character
   (an order-0 model, letter frequencies only, needs about 4.6).
2. Load the pretrained entry, `zoo.get("char_lm", weights="shakespeare")`, and score it
   the same way.
3. Generate text with temperature and top-k sampling, and greedily.
4. Plot where the pretrained model is surprised along a held-out passage.

    python tutorials/05_char_text_generation.py [--fast] [--out tutorial_out/05]

Writes `OUT/training.png`, `OUT/surprise.png`, `OUT/samples.txt` and `OUT/scores.json`.
The full run trains a 256-unit GRU for 2 epochs (under 2 minutes on 2 CPU cores);
`--fast` trains a tiny one on a slice.
"""

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo.files import write_text  # noqa: E402
from zoo.plots import FAST_NOTICE, epoch_axis, pyplot, save_png  # noqa: E402
from zoo.recipes.texts import bits_per_character  # noqa: E402

FULL = dict(characters=None, units=256, epochs=2, test_characters=None, generate=400)
FAST = dict(characters=20000, units=16, epochs=2, test_characters=3000, generate=60)


def order0_bits(train, test):
    """Bits per character of letter frequencies alone (add-one smoothed)."""
    chars, counts = np.unique(list(train), return_counts=True)
    p = dict(zip(chars, (counts + 1) / (counts.sum() + len(chars) + 1)))
    floor = 1 / (counts.sum() + len(chars) + 1)
    return float(-np.mean([np.log2(p.get(c, floor)) for c in test]))


def surprise(model, text):
    """Bits the model spends on each character of `text` after the first."""
    ids = model.encode(text)[None]
    logits = np.asarray(model(ids[:, :-1]), "float64")[0]
    top = logits.max(-1, keepdims=True)
    logp = logits - top - np.log(np.exp(logits - top).sum(-1, keepdims=True))
    return -logp[np.arange(len(text) - 1), ids[0, 1:]] / np.log(2)


def run(out, fast=False, seed=0):
    settings = FAST if fast else FULL
    if fast:
        print(FAST_NOTICE)
    out = Path(out)
    keras.utils.set_random_seed(seed)
    train = zoo.data.load_shakespeare("train")[: settings["characters"]]
    test = zoo.data.load_shakespeare("test")[: settings["test_characters"]]
    print(f"{len(train)} training characters, {len(test)} held-out; letter frequencies alone "
          f"need {order0_bits(train, test):.2f} bits per character")

    # 1. Your own model.
    lm = zoo.get("char_lm", vocabulary=zoo.models.CharLM.vocabulary_of(train),
                 units=settings["units"], depth=1)
    x, y = lm.windows(train, length=100, stride=50)
    lm.compile(keras.optimizers.Adam(3e-3, clipnorm=1.0),
               keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = lm.fit(x, y, batch_size=64, epochs=settings["epochs"], verbose=0)
    own = bits_per_character(lm, test)
    print(f"your char_lm ({settings['units']} GRU units, {settings['epochs']} epochs): "
          f"{own:.3f} bits per character on the held-out text")

    # 2. The pretrained entry.
    card = zoo.pretrained.card("char_lm.shakespeare")
    pretrained = zoo.get("char_lm", weights="shakespeare")
    shipped = bits_per_character(pretrained, test)
    print(f"char_lm.shakespeare: {shipped:.3f} bits per character "
          f"(card, all held-out text: {card['metrics']['test_bits_per_character']:.3f})")

    # 3. Generation.
    samples = []
    for options in ({"temperature": 0.5}, {"temperature": 1.0, "top_k": 10}, {"greedy": True}):
        text = pretrained.generate("MIRANDA.\n", settings["generate"], seed=seed, **options)
        samples.append(f"--- {options}\n{text}\n")
    write_text(out / "samples.txt", "\n".join(samples))
    print(samples[0])

    # 4. Plots: your model's training curve; the pretrained model's surprise per character.
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.4))
    per_epoch = np.array(history.history["loss"]) / np.log(2)
    ax.plot(np.arange(1, len(per_epoch) + 1), per_epoch, marker="o")
    for epoch, value in enumerate(per_epoch, 1):
        ax.annotate(f"{value:.2f}", (epoch, value), textcoords="offset points", xytext=(0, 6),
                    ha="center", fontsize=9)
    epoch_axis(ax, len(per_epoch))
    ax.set(ylabel="training bits per character",
           title=f"your model: held-out {own:.2f} bits per character after {len(per_epoch)} "
                 f"epoch{'s' if len(per_epoch) > 1 else ''}")
    ax.grid(alpha=0.3)
    save_png(fig, out / "training.png")
    passage = test[2000:2081] if len(test) > 2100 else test[:81]
    bits = surprise(pretrained, passage)
    fig, ax = plt.subplots(figsize=(14, 3.6))
    ax.bar(np.arange(len(bits)), bits, color="tab:purple")
    ax.set_xticks(np.arange(len(bits)), [c if c != "\n" else "⏎" for c in passage[1:]],
                  fontsize=10, fontfamily="monospace")
    ax.set(xlim=(-0.6, len(bits) - 0.4), ylabel="bits (-log2 p)",
           xlabel="each character of a held-out passage, given the ones before it",
           title=f"char_lm.shakespeare: bits spent on each character (mean {np.mean(bits):.2f})")
    save_png(fig, out / "surprise.png")

    scores = {"own_bits_per_character": own, "pretrained_bits_per_character": shipped,
              "order0_bits_per_character": order0_bits(train, test)}
    write_text(out / "scores.json", json.dumps(scores, indent=2))
    print(f"plots: {out / 'training.png'}, {out / 'surprise.png'}; samples: {out / 'samples.txt'}")
    return scores


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true",
                        help="a 16-unit model, 2 epochs on a 20,000-character slice")
    parser.add_argument("--out", default="tutorial_out/05",
                        help="output folder (default: tutorial_out/05)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args(argv)
    run(args.out, args.fast, args.seed)


if __name__ == "__main__":
    main()
