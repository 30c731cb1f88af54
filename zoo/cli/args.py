"""What every `zoo` verb shares: the parser, its errors, argument types, verbosity.

A user error is a `UsageError`: one line on stderr and exit status 2, never a traceback.
"""

import argparse
import json
import math
import sys


class UsageError(Exception):
    """A user error the command line reports in one line, exit status 2."""


class Interrupted(Exception):
    """Ctrl-C during training: reported in one line, exit status 130."""


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written; every option's help ends with its default, when it has one."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (default not in (None, False, argparse.SUPPRESS) and "default" not in text
                and not isinstance(action, argparse._HelpAction)):
            text += f" (default: {default!r})" if isinstance(default, str) else (
                f" (default: {default})")
        return text


def verbosity(args):
    """Keras verbosity: `--verbose` if given, 0 with `--quiet`, else a progress bar in a
    terminal and one line per epoch when the output is a file or a pipe."""
    if getattr(args, "quiet", False):
        return 0
    if getattr(args, "verbose", None) is not None:
        return args.verbose
    return 1 if sys.stdout.isatty() else 2


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, received {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, received {value}")
    return value


def auto_or_positive_int(text):
    """`"auto"` or a whole number of at least 1 (for settings that choose themselves)."""
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'auto' or a whole number, received {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 'auto' or at least 1, received {value}")
    return value


def learning_rate(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, received {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, received {text}")
    return value


def setting(text):
    """One `--set KEY=VALUE` as `(key, value)`: the value read as JSON where it is JSON
    (numbers, booleans, lists), else kept as text."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expects KEY=VALUE, received {text!r}")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    except RecursionError:
        raise argparse.ArgumentTypeError(f"{key}: the value nests too deep") from None
    if isinstance(parsed, float) and not math.isfinite(parsed):
        raise argparse.ArgumentTypeError(f"{key}: {value} is not a finite number")
    return key, parsed


#: What a user can cause with a bad argument or file; reported in one line, exit status 2.
USER_ERRORS = (UsageError, ValueError, TypeError, OSError, EOFError, ImportError)
#: More of them, in modules a verb imports when it runs: (module, class names).
MORE_USER_ERRORS = (("zoo.recipes.runs", ("RunError", "TrainingDiverged")),
                    ("zoo.files", ("LockedError",)),
                    ("zoo.distribute.rendezvous", ("DistributedError",)),
                    ("zoo.backend", ("BackendError",)))


def user_errors():
    """`USER_ERRORS` and those of `MORE_USER_ERRORS` whose module is loaded (an error of a
    module never imported cannot have been raised)."""
    more = [getattr(sys.modules[module], name) for module, names in MORE_USER_ERRORS
            if module in sys.modules for name in names]
    return (*USER_ERRORS, *more)
