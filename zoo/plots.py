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
