"""Figures a person would rather look at than read."""

import numpy as np

from zoo.files import atomic_path


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path):
    """Lays out `fig`, writes it to `path` atomically as a PNG, closes it; returns `path`."""
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    pyplot().close(fig)
    return path


def plot_predictions(labels, predictions, dimensions, path, frame_rate=25.0, title=None):
    """Write a PNG of predicted against true traces, one panel per dimension."""
    plt = pyplot()

    labels, predictions = np.asarray(labels), np.asarray(predictions)
    t = np.arange(len(labels)) / frame_rate
    fig, axes = plt.subplots(len(dimensions), 1, figsize=(10, 2.4 * len(dimensions)),
                             sharex=True, squeeze=False)
    for k, (ax, dim) in enumerate(zip(axes[:, 0], dimensions)):
        ax.plot(t, labels[:, k], color="black", lw=1.2, label="truth")
        ax.plot(t, predictions[:, k], color="tab:orange", lw=1.0, label="prediction")
        ax.set_ylabel(dim)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper right")
    axes[-1, 0].set_xlabel("time (s)")
    if title:
        fig.suptitle(title)
    return save_png(fig, path)


def epoch_axis(ax, epochs):
    """Whole-number epoch ticks from 1, so a short run does not read 0.0-1.0."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlim(0.5, max(epochs, 1) + 0.5)
    if epochs <= 12:
        ax.set_xticks(range(1, epochs + 1))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")


#: What every tutorial prints before the numbers of a `--fast` run.
FAST_NOTICE = ("--fast: a smoke test on a tiny slice with tiny settings; the numbers below "
               "show that the steps run, not how well the method works (run without --fast).")


def plot_rank_sweep(ranks, scores, path, ylabel, title=None):
    """A PNG of a held-out score against the tensor rank; `"full"` is drawn at the right.

    Args:
        ranks: CP ranks (ints) and optionally `"full"`, in sweep order.
        scores: one held-out score per rank (lower is better).
        path: where the PNG goes (written atomically).
        ylabel: what the score is, e.g. `"test NLL per time step (nats)"`.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    numeric = [(r, s) for r, s in zip(ranks, scores) if r != "full"]
    positions = [np.log2(r) for r, _ in numeric]
    ax.plot(positions, [s for _, s in numeric], "o-", color="tab:blue", label="CP rank")
    labels = [str(r) for r, _ in numeric]
    full = [s for r, s in zip(ranks, scores) if r == "full"]
    if full:
        x_full = (max(positions) if positions else 0) + 1.5
        ax.plot([x_full], full, "s", color="tab:red", label="full tensor")
        positions, labels = positions + [x_full], labels + ["full"]
    best = int(np.argmin(scores))
    ax.annotate("best", (positions[best], scores[best]), textcoords="offset points",
                xytext=(0, 8), ha="center")
    ax.set_xticks(positions)
    ax.set_xticklabels(labels)
    ax.set_xlabel("rank of the bilinear tensor")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    if title:
        ax.set_title(title)
    return save_png(fig, path)


def plot_piano_roll(roll, path, title=None, primed=0):
    """A PNG of a piano roll `(frames, 88)`: time across, pitch up, named C octaves.

    Args:
        roll: 0/1 array, key `k` is MIDI pitch `21 + k`.
        path: where the PNG goes (written atomically).
        primed: frames at the start given rather than drawn by a model; a line marks them.
    """
    plt = pyplot()
    roll = np.asarray(roll)
    keys = np.flatnonzero(roll.any(axis=0))
    low, high = (keys.min() - 2, keys.max() + 3) if len(keys) else (27, 64)
    fig, ax = plt.subplots(figsize=(max(6, min(14, roll.shape[0] / 6)), 3.6))
    ax.imshow(roll[:, low:high].T, origin="lower", aspect="auto", cmap="Greys",
              interpolation="nearest", extent=(0, roll.shape[0], low - 0.5, high - 0.5))
    ticks = [k for k in range(low, high) if (k + 21) % 12 == 0]
    ax.set_yticks(ticks)
    ax.set_yticklabels([f"C{(k + 21) // 12 - 1}" for k in ticks])
    if primed:
        ax.axvline(primed, color="tab:red", lw=1.2)
        ax.annotate("given | drawn", xy=(primed, 0.0), xycoords=("data", "axes fraction"),
                    xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                    color="tab:red", fontsize=9,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none"})
    ax.set_xlabel("beat (quarter note)")
    ax.set_ylabel("pitch")
    if title:
        ax.set_title(title)
    return save_png(fig, path)
