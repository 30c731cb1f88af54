"""TensorFlow's start-up log lines, kept off the command line's stderr.

TensorFlow 2.21 writes its native start-up lines (oneDNN, CUDA stubs, CPU features, a
failed `cuInit` on machines without a GPU) through absl, which `TF_CPP_MIN_LOG_LEVEL` no
longer governs. The `zoo` command imports TensorFlow and touches its devices with file
descriptor 2 pointing at a scratch file, then writes back the lines whose level is at least
`TF_CPP_MIN_LOG_LEVEL` (the command's default: 3, errors hidden too; 0 shows everything),
and every line that is not a log line. Python's own warnings and errors are untouched.
"""

import os
import re
import sys
import tempfile

_LOG_LINE = re.compile(rb"^(?P<level>[IWEF])\d{4} [\d:]+\.\d+ +\d+ [\w.-]+:\d+\] ")
_LEVELS = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}
_BANNER = b"WARNING: All log messages before absl::InitializeLog() is called"
_CONTINUATION = b"To enable the following instructions:"


def filter_lines(data, level):
    """The lines of `data` (bytes) that a user at `level` should see."""
    kept, dropping = [], False
    for line in data.splitlines(keepends=True):
        match = _LOG_LINE.match(line)
        if match:
            dropping = _LEVELS[match["level"]] < level
        elif line.startswith(_BANNER):
            dropping = level > 0
        elif not (dropping and line.startswith(_CONTINUATION)):
            dropping = False
        if not dropping:
            kept.append(line)
    return b"".join(kept)


def import_tensorflow(default_level=3):
    """Imports TensorFlow and Keras, lists the devices, and lets through only the lines of
    at least the log level (`TF_CPP_MIN_LOG_LEVEL`, else `default_level`); nothing when
    TensorFlow is already imported."""
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", str(default_level))
    try:
        level = int(os.environ["TF_CPP_MIN_LOG_LEVEL"])
    except ValueError:
        level = default_level
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no file descriptor 2 to borrow
        return
    with tempfile.TemporaryFile() as scratch:
        os.dup2(scratch.fileno(), 2)
        try:
            import keras  # noqa: F401
            import tensorflow as tf

            tf.config.list_physical_devices()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            scratch.seek(0)
            shown = filter_lines(scratch.read(), level)
            if shown:
                stream = getattr(sys.stderr, "buffer", None)
                if stream is None:
                    sys.stderr.write(shown.decode(errors="replace"))
                else:
                    stream.write(shown)
                sys.stderr.flush()


def running_the_command_line():
    """Whether this process is the `zoo` command (the console script or `-m zoo.cli`)."""
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    command = list(getattr(sys, "orig_argv", []))
    as_module = "-m" in command[:-1] and command[command.index("-m") + 1] == "zoo.cli"
    return program in ("zoo", "zoo.exe") or as_module
