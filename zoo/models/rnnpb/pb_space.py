"""Reading the PB space of an RNNPB: distances, nearest class means and a plot.

The RNNPB paper (Zhong & Yang) judges its PB space by tables of Euclidean distances:
between the PB vectors of the training sequences (Tables I-II) and between the mean
training PB of each class and the recognised PB vectors (Tables IV-V), where a sequence is
recognised when its own class is the nearest. `pb_distance_table` builds both kinds as a
pandas DataFrame; `nearest_class_mean` turns the second into a classifier, and
`nearest_neighbour` (1-NN against the table's rows) is the other one; `plot_pb_space` draws
the paper's Figure 2.
"""

import numpy as np
import pandas as pd

from zoo.plots import pyplot, save_png


def _check(pbs, labels, name):
    pbs = np.asarray(pbs, dtype="float64")
    if pbs.ndim != 2 or len(pbs) == 0:
        raise ValueError(f"`{name}` must be a non-empty (n, pb_dim) array. Received shape {pbs.shape}.")
    if not np.isfinite(pbs).all():
        raise ValueError(f"`{name}` contains NaN or inf.")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(pbs),):
            raise ValueError(
                f"`{name}` has {len(pbs)} rows but {labels.size} labels were given.")
    return pbs, labels


def class_means(pbs, labels):
    """`(classes, means)`: the classes in order of first appearance and their mean PB."""
    pbs, labels = _check(pbs, labels, "pbs")
    classes = list(dict.fromkeys(labels.tolist()))
    return classes, np.stack([pbs[labels == c].mean(axis=0) for c in classes])


def pb_distance_table(pbs, labels, reference=None, reference_labels=None):
    """Euclidean distances in PB space as a DataFrame, like the paper's Tables I-V.

    With `pbs` and `labels` only: the distance between every two sequences (Tables I-II);
    rows and columns are named by label and index within the class, e.g. `Walking2`.
    With `reference` and `reference_labels` (the training PB table and its labels): rows
    are the class means of `reference`, columns the class means of `pbs` (Tables IV-V), so
    a recognition that works puts the smallest entry of each column on the diagonal.

    Returns:
        A `pandas.DataFrame`.
    """
    pbs, labels = _check(pbs, labels, "pbs")
    if reference is None:
        seen = {}
        names = []
        for label in labels.tolist():
            seen[label] = seen.get(label, 0) + 1
            names.append(f"{label}{seen[label]}")
        distances = np.linalg.norm(pbs[:, None] - pbs[None], axis=-1)
        return pd.DataFrame(distances, index=names, columns=names)
    ref_classes, ref_means = class_means(reference, reference_labels)
    classes, means = class_means(pbs, labels)
    columns = [c for c in ref_classes if c in classes] + [c for c in classes if c not in ref_classes]
    means = np.stack([means[classes.index(c)] for c in columns])
    distances = np.linalg.norm(ref_means[:, None] - means[None], axis=-1)
    frame = pd.DataFrame(distances, index=[f"trained {c}" for c in ref_classes],
                         columns=[f"recognised {c}" for c in columns])
    return frame


def diagonal_is_smallest(table):
    """Whether every column of a class-mean `pb_distance_table` is smallest on its own class."""
    rows = [name.removeprefix("trained ") for name in table.index]
    for column in table.columns:
        label = column.removeprefix("recognised ")
        if label not in rows or table[column].idxmin() != f"trained {label}":
            return False
    return True


def nearest_class_mean(reference, reference_labels, pbs):
    """Labels of `pbs` by the nearest class mean of the labelled `reference` PB vectors."""
    classes, means = class_means(reference, reference_labels)
    pbs, _ = _check(pbs, None, "pbs")
    if pbs.shape[1] != means.shape[1]:
        raise ValueError(
            f"`pbs` has {pbs.shape[1]} PB units; the reference has {means.shape[1]}.")
    nearest = np.linalg.norm(pbs[:, None] - means[None], axis=-1).argmin(axis=1)
    return np.array([classes[i] for i in nearest])


def nearest_neighbour(reference, reference_labels, pbs=None):
    """Labels of `pbs` by the label of the nearest labelled `reference` PB vector (1-NN).

    With `pbs=None`, each reference row gets the label of its nearest other row (leave
    one out): how well the reference itself separates its classes under this rule.
    """
    reference, reference_labels = _check(reference, reference_labels, "reference")
    leave_one_out = pbs is None
    if leave_one_out:
        if len(reference) < 2:
            raise ValueError("Leave-one-out needs at least 2 reference PB vectors. "
                             f"Received {len(reference)}.")
        pbs = reference
    pbs, _ = _check(pbs, None, "pbs")
    if pbs.shape[1] != reference.shape[1]:
        raise ValueError(
            f"`pbs` has {pbs.shape[1]} PB units; the reference has {reference.shape[1]}.")
    distances = np.linalg.norm(pbs[:, None] - reference[None], axis=-1)
    if leave_one_out:
        np.fill_diagonal(distances, np.inf)
    return reference_labels[distances.argmin(axis=1)]


def plot_pb_space(reference, reference_labels, path, recognised=None, recognised_labels=None,
                  title=None):
    """Writes a PNG of the PB space like the paper's Figure 2.

    Training PB vectors are drawn as circles, one colour per class; recognised PB vectors
    as asterisks in their class's colour; class means of the training PBs as crosses.
    With more than 2 PB units the first two are plotted.

    Returns:
        `path`.
    """
    plt = pyplot()
    reference, reference_labels = _check(reference, reference_labels, "reference")
    classes, means = class_means(reference, reference_labels)
    if recognised is not None:
        recognised, recognised_labels = _check(recognised, recognised_labels, "recognised")
        classes += [c for c in dict.fromkeys(recognised_labels.tolist()) if c not in classes]
    colours = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(6, 5))
    for k, label in enumerate(classes):
        colour = colours(k % 10)
        rows = reference[reference_labels == label]
        ax.scatter(rows[:, 0], rows[:, 1] if rows.shape[1] > 1 else 0 * rows[:, 0],
                   color=colour, alpha=0.6, label=f"{label} (trained)")
        if recognised is not None:
            rec = recognised[recognised_labels == label]
            ax.scatter(rec[:, 0], rec[:, 1] if rec.shape[1] > 1 else 0 * rec[:, 0],
                       color=colour, marker="*", s=90, edgecolor="black", linewidth=0.4)
    ax.scatter(means[:, 0], means[:, 1] if means.shape[1] > 1 else 0 * means[:, 0],
               color="black", marker="x", s=60, label="class mean (trained)")
    if recognised is not None:
        ax.scatter([], [], color="grey", marker="*", s=90, label="recognised")
    ax.set_xlabel("PB 1")
    ax.set_ylabel("PB 2")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(title or ("PB space: training sequences and recognised ones"
                           if recognised is not None else "PB space of the training sequences"))
    return save_png(fig, path)


#: `classify(rule=...)`: the rules, and "auto", which picks one from the training table.
RULES = ("auto", "mean", "1-NN")


def table_separation(reference, reference_labels):
    """How well each rule labels the training PB table itself: `{"mean": accuracy of the
    nearest class mean on the table's rows, "1-NN": leave-one-out 1-NN accuracy}`.

    The class-mean figure counts each row in its own class mean (a little optimistic, as
    the paper's Tables I-II are); the 1-NN one leaves each row out.
    """
    reference, reference_labels = _check(reference, reference_labels, "reference")
    scores = {"mean": float(np.mean(nearest_class_mean(reference, reference_labels, reference)
                                    == reference_labels))}
    scores["1-NN"] = (float(np.mean(nearest_neighbour(reference, reference_labels)
                                    == reference_labels)) if len(reference) > 1 else 0.0)
    return scores


def choose_rule(reference, reference_labels):
    """`classify(rule="auto")`'s choice: the rule that separates the training table better,
    the paper's nearest class mean on a tie.

    Measured (benchmarks/rnnpb_datasets.py, seeds 0-2): the classes of the spoken digits
    form several clusters each in PB space (table: class mean 0.74-0.82, 1-NN 0.87-0.91),
    where 1-NN in PB space scores 0.89 on test against 0.69 for the class mean; on
    BasicMotions, JapaneseVowels and PickupGesture the class mean separates the table
    better and scores higher on test.
    """
    scores = table_separation(reference, reference_labels)
    return "1-NN" if scores["1-NN"] > scores["mean"] else "mean"


def check_rule(rule):
    """`rule` if it is one of `RULES`; a ValueError naming them otherwise."""
    if rule not in RULES:
        raise ValueError(f"`rule` must be one of {', '.join(map(repr, RULES))}. "
                         f"Received: rule={rule!r}")
    return rule


def classify(reference, reference_labels, pbs, rule="auto"):
    """Labels of `pbs` against the labelled `reference` PBs by `rule`: "mean" (nearest
    class mean), "1-NN" (nearest row) or "auto" (`choose_rule`)."""
    if check_rule(rule) == "auto":
        rule = choose_rule(reference, reference_labels)
    if rule == "mean":
        return nearest_class_mean(reference, reference_labels, pbs)
    return nearest_neighbour(reference, reference_labels, pbs)
