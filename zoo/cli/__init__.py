"""The `zoo` command line (`zoo VERB --help`; `python -m zoo.cli` runs it too).

`args` holds what every verb shares (parser, errors, argument types), `train` the
training verbs, `app` the others and `main`; `quiet` keeps TensorFlow's start-up log
lines off the terminal. Importing this package imports nothing heavy, so `zoo/__init__`
can silence TensorFlow before anything loads it.
"""


def main(argv=None):
    """Runs `zoo` with `argv` (default: the process's arguments); returns the exit status."""
    from zoo.cli.app import main as run

    return run(argv)


def build_parser():
    """The `argparse` parser of `zoo`."""
    from zoo.cli.app import build_parser as build

    return build()
