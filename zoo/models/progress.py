"""What `verbose="auto"` means in the zoo: a progress bar in a terminal, one line per epoch
(Keras's `verbose=2`, no bars, no escape codes) when the output is a file or a pipe.

Keras's own "auto" is a bar everywhere, which writes carriage returns and ANSI escapes into
logs and notebooks' saved output. Every fit, evaluate, predict and recognition of a zoo
model resolves "auto" here; an explicit 0, 1 or 2 is kept.
"""

import sys

import keras


def resolve(verbose):
    """`verbose` with "auto" resolved: 1 when stdout is a terminal, else 2."""
    if verbose != "auto":
        return verbose
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        return 1 if isatty is not None and isatty() else 2
    except ValueError:  # a closed stream
        return 2


def with_verbose(args, kwargs, position):
    """`kwargs` of a Keras `fit`/`evaluate`/`predict` call with "auto" resolved, unless
    `verbose` came positionally (`args` holds at least `position + 1` values)."""
    if len(args) > position:
        return kwargs
    return {**kwargs, "verbose": resolve(kwargs.get("verbose", "auto"))}


def progbar(total, unit_name, verbose):
    """A `keras.utils.Progbar` for `verbose` (0 or False: None; 2: one line at the end)."""
    verbose = resolve(verbose)
    if verbose in (0, False):
        return None
    return keras.utils.Progbar(total, unit_name=unit_name, verbose=int(verbose))
