"""The RNNPB with its defaults on every real multichannel sequence set available offline,
against plain baselines on the same splits (issue 18).

Sets: the three bundled UEA sets (their own splits), the spoken digits and UCI HAPT
(`scripts/convert_datasets.py` writes them; seeded splits, see `zoo.data.datasets`). The
spoken digits and HAPT training splits are subsampled, seeded and stratified, to
`--per-class` sequences per class (default 40), and their test splits to 20 per class,
to keep the run within the hour on 2 cores; `--per-class 0` uses everything.

Per set, on the same split:
- `rnnpb default`: `zoo.get("rnnpb")`, `fit(train)`, `recognize(test)`, nothing chosen
  by hand; the score is the nearest-class-mean accuracy of the recognised test PBs against
  the training PB table's class means (labels are never read by learning).
- `rnnpb 1-NN PB`: the same recognised PBs, labelled by their nearest training PB
  (`nearest_neighbour`), the other rule of `zoo.models.rnnpb.pb_space`; `rnnpb classify`:
  by the rule `RNNPB.classify`'s default (`rule="auto"`) picks from the training table,
  the score the target (>= 0.9x 1-NN Euclidean, issue 30) is read from.
- `rnnpb table`: the nearest-class-mean rule applied to the training PB table itself (how
  well the learnt PB space separates the classes it was trained on), and `table 1-NN`: each
  row labelled by its nearest other row (leave one out).
- `rnnpb 2 PB, no dropout`: the same, with the paper's 2 PB units (Table III) and no
  input dropout: the two defaults that differ from the paper, measured together.
- `rnnpb recipe`: the set's hand-chosen recipe (`zoo.recipes.motion.SETTINGS`), where one
  exists.
- `1-NN euclidean`: channels standardised with the training statistics, sequences
  resampled (linear interpolation) to the median training length, nearest training
  sequence by Euclidean distance.
- `1-NN DTW`: the same standardised sequences at their own lengths, full-window dynamic
  time warping with squared Euclidean frame cost.
- `GRU classifier`: `gru_classifier`, 64 units, one recipe for every set (Adam 3e-3 with
  cosine decay, 60 epochs, batch 16, standardised and masked inputs).
- `chance`: the largest class's share of the test split.

Every method runs once per seed in `--seeds` (default 0 1 2: the seed of the model's
initialisation and, for the two subsampled sets, of the subsample); the table gives the
mean over seeds and, after the +-, half the range (largest minus smallest, over two).

    .venv/bin/python benchmarks/rnnpb_datasets.py [--sets BasicMotions ...] [--seeds 0 1 2]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo import registry  # noqa: E402
from zoo.data.uea import LabelledSequences  # noqa: E402
from zoo.models.rnnpb.pb_space import (choose_rule, classify, nearest_class_mean,  # noqa: E402
                                       nearest_neighbour)
from zoo.models.rnnpb.pb_updates import auto_starts  # noqa: E402

SETS = ("BasicMotions", "PickupGestureWiimoteZ", "JapaneseVowels", "SpokenDigits", "HAPT")


def subsample(data, per_class, seed):
    """At most `per_class` sequences of each class, drawn with `seed`."""
    if not per_class:
        return data
    rng = np.random.default_rng(seed)
    keep = np.sort(np.concatenate([rng.permutation(np.flatnonzero(data.labels == c))[:per_class]
                                   for c in np.unique(data.labels)]))
    return LabelledSequences([data.sequences[i] for i in keep], data.labels[keep], data.classes,
                             data.name)


def load(name, per_class, seed):
    if name == "SpokenDigits":
        train, test = zoo.data.load_spoken_digits("train"), zoo.data.load_spoken_digits("test")
    elif name == "HAPT":
        train, test = zoo.data.load_hapt("train"), zoo.data.load_hapt("test")
    else:
        return zoo.data.load_uea(name, "train"), zoo.data.load_uea(name, "test"), "official"
    split = (f"seeded; subsampled to {per_class} train / 20 test per class"
             if per_class else "seeded")
    return subsample(train, per_class, seed), subsample(test, 20 if per_class else 0,
                                                         seed + 1), split


def standardise(train, test):
    mean, std = train.statistics()
    return train.standardized(mean, std), test.standardized(mean, std)


def resample(sequence, length):
    old = np.linspace(0.0, 1.0, len(sequence))
    new = np.linspace(0.0, 1.0, length)
    return np.stack([np.interp(new, old, sequence[:, c]) for c in range(sequence.shape[1])], 1)


def one_nn_euclidean(train, test):
    train, test = standardise(train, test)
    length = int(np.median(train.lengths))
    a = np.stack([resample(s, length).ravel() for s in train.sequences])
    b = np.stack([resample(s, length).ravel() for s in test.sequences])
    distances = (b * b).sum(1)[:, None] - 2 * b @ a.T + (a * a).sum(1)[None]
    return train.labels[distances.argmin(1)]


def dtw_to_all(query, references, lengths):
    """Full-window DTW from `query` `(m, c)` to every padded reference `(n, L, c)`."""
    cost = ((query[None, :, None, :] - references[:, None, :, :]) ** 2).sum(-1)  # (n, m, L)
    n, m, width = cost.shape
    previous = np.full((n, width + 1), np.inf)
    previous[:, 0] = 0.0
    for i in range(m):
        current = np.full((n, width + 1), np.inf)
        diagonal_or_up = np.minimum(previous[:, :-1], previous[:, 1:]) + cost[:, i]
        for j in range(width):  # the left neighbour makes each row sequential
            current[:, j + 1] = np.minimum(diagonal_or_up[:, j], current[:, j] + cost[:, i, j])
        previous = current
        previous[:, 0] = np.inf
    return previous[np.arange(n), lengths]


def one_nn_dtw(train, test):
    train, test = standardise(train, test)
    references, _ = train.padded()
    lengths = train.lengths
    return np.array([train.labels[dtw_to_all(s, references, lengths).argmin()]
                     for s in test.sequences])


def gru_classifier(train, test, seed):
    train, test = standardise(train, test)
    length = int(max(train.lengths.max(), test.lengths.max()))
    (x_train, _), (x_test, _) = train.padded(length), test.padded(length)
    keras.utils.set_random_seed(seed)
    model = registry.build("gru_classifier", input_dim=train.channels,
                           classes=len(train.classes), units=64, dropout=0.2)
    epochs, batch = 60, 16
    steps = epochs * int(np.ceil(len(x_train) / batch))
    model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(3e-3, steps,
                                                                               alpha=0.05)),
                  "sparse_categorical_crossentropy")
    model.fit(x_train, train.labels, epochs=epochs, batch_size=batch, verbose=0)
    return np.argmax(model.predict(x_test, verbose=0), -1)


def rnnpb_default(train, test, seed, **settings):
    keras.utils.set_random_seed(seed)
    model = zoo.get("rnnpb", **settings)
    history = model.fit(train.sequences, labels=train.labels, verbose=0)
    pbs, errors = model.recognize(test.sequences, verbose=0)
    table = model.pb_table.numpy()
    predicted = {"mean": nearest_class_mean(table, train.labels, pbs),
                 "1-NN": nearest_neighbour(table, train.labels, pbs),
                 "auto": classify(table, train.labels, pbs, "auto")}
    on_table = {"mean": nearest_class_mean(table, train.labels, table),
                "1-NN": nearest_neighbour(table, train.labels)}
    about = (f"compress {model.compress if model.compress is None else round(model.compress, 4)}"
             f", {len(history.epoch)} epochs (loss {history.history['loss'][-1]:.3f}), "
             f"{len(errors)} updates x {auto_starts(len(train))} "
             f"starts; classify(rule='auto') chose {choose_rule(table, train.labels)}")
    return predicted, on_table, about


def rnnpb_recipe(name, test, seed):
    from zoo.recipes.motion import SETTINGS, learn_uea

    model, train = learn_uea(name, seed=seed)
    recipe = SETTINGS[name]
    pbs, _ = model.recognize(test.sequences, steps=recipe["steps"], starts=recipe["starts"],
                             verbose=0)
    return nearest_class_mean(model.pb_table.numpy(), train.labels, pbs)


def run_set(name, args, seed):
    """Every method on one set with one seed: `{method: accuracy}`."""
    from zoo.recipes.motion import SETTINGS

    train, test, split = load(name, args.per_class, seed)
    print(f"\n{name}, seed {seed}: train {len(train)} / test {len(test)} sequences ({split}), "
          f"{train.channels} channels, lengths {train.lengths.min()}-{train.lengths.max()}, "
          f"{len(train.classes)} classes", flush=True)
    scores = {"chance": np.bincount(test.labels).max() / len(test)}
    methods = {
        "1-NN euclidean": lambda: one_nn_euclidean(train, test),
        "1-NN DTW": lambda: one_nn_dtw(train, test),
        "GRU classifier": lambda: gru_classifier(train, test, seed),
    }
    for method, run in methods.items():
        if method in args.skip:
            continue
        start = time.perf_counter()
        scores[method] = float(np.mean(run() == test.labels))
        print(f"  {method:16s} {scores[method]:.3f}  ({time.perf_counter() - start:.0f} s)",
              flush=True)
    start = time.perf_counter()
    predicted, on_table, about = rnnpb_default(train, test, seed)
    scores["rnnpb default"] = float(np.mean(predicted["mean"] == test.labels))
    scores["rnnpb 1-NN PB"] = float(np.mean(predicted["1-NN"] == test.labels))
    scores["rnnpb classify"] = float(np.mean(predicted["auto"] == test.labels))
    scores["rnnpb table"] = float(np.mean(on_table["mean"] == train.labels))
    scores["rnnpb table 1-NN"] = float(np.mean(on_table["1-NN"] == train.labels))
    print(f"  {'rnnpb default':16s} {scores['rnnpb default']:.3f}  "
          f"({time.perf_counter() - start:.0f} s; {about}); 1-NN in PB space "
          f"{scores['rnnpb 1-NN PB']:.3f}; classify (auto) {scores['rnnpb classify']:.3f}; "
          "on its own training table "
          f"{scores['rnnpb table']:.3f} (1-NN, leave one out: {scores['rnnpb table 1-NN']:.3f})",
          flush=True)
    if "rnnpb 2 PB" not in args.skip:
        start = time.perf_counter()
        predicted, on_table, _ = rnnpb_default(train, test, seed, pb_dim=2, dropout=0.0)
        scores["rnnpb 2 PB"] = float(np.mean(predicted["mean"] == test.labels))
        scores["rnnpb 2 PB table"] = float(np.mean(on_table["mean"] == train.labels))
        print(f"  {'rnnpb 2 PB, no dropout':16s} {scores['rnnpb 2 PB']:.3f}  "
              f"({time.perf_counter() - start:.0f} s); on its own training table "
              f"{scores['rnnpb 2 PB table']:.3f}", flush=True)
    if name in SETTINGS and "rnnpb recipe" not in args.skip:
        start = time.perf_counter()
        scores["rnnpb recipe"] = float(np.mean(rnnpb_recipe(name, test, seed) == test.labels))
        print(f"  {'rnnpb recipe':16s} {scores['rnnpb recipe']:.3f}  "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
    if "1-NN euclidean" in scores:
        print(f"  rnnpb classify / 1-NN euclidean: "
              f"{scores['rnnpb classify'] / scores['1-NN euclidean']:.2f} (target >= 0.9)",
              flush=True)
    return scores


def summary(runs):
    """`{method: (mean, half range)}` over the seeds' `{method: accuracy}`."""
    keys = set.intersection(*(set(r) for r in runs))
    return {key: (float(np.mean([r[key] for r in runs])),
                  float(np.ptp([r[key] for r in runs])) / 2) for key in keys}


COLUMNS = ("chance", "1-NN euclidean", "1-NN DTW", "GRU classifier", "rnnpb default",
           "rnnpb 1-NN PB", "rnnpb classify", "ratio", "rnnpb table", "rnnpb table 1-NN", "rnnpb 2 PB",
           "rnnpb 2 PB table", "rnnpb recipe")
HEADERS = ("chance", "1-NN Euclidean", "1-NN DTW", "GRU classifier", "RNNPB nearest class mean",
           "RNNPB 1-NN in PB space", "RNNPB classify (auto)", "classify / 1-NN Euclidean", "training table",
           "training table, 1-NN", "RNNPB 2 PB, no dropout", "2 PB table", "RNNPB recipe")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--skip", nargs="*", default=[], help="methods to leave out")
    args = parser.parse_args(argv)

    rows = []
    for name in args.sets:
        runs = [run_set(name, args, seed) for seed in args.seeds]
        for r in runs:
            if "1-NN euclidean" in r:
                r["ratio"] = r["rnnpb classify"] / r["1-NN euclidean"]
        rows.append((name, summary(runs)))

    seeds = ", ".join(map(str, args.seeds))
    print(f"\nMean over seeds {seeds} (+- half the range):")
    print("| set | " + " | ".join(HEADERS) + " |")
    print("|---|" + "---|" * len(HEADERS))
    for name, s in rows:
        cell = lambda key: (f"{s[key][0]:.3f} +- {s[key][1]:.3f}"  # noqa: E731
                            if key in s else "-")
        print(f"| {name} | " + " | ".join(cell(key) for key in COLUMNS) + " |")


if __name__ == "__main__":
    main()
