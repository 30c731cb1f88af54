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
