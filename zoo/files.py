"""Atomic file writes, and the one rule for what a verb may replace.

A crash or a full disk never leaves a half-written file in place. `check_out` decides,
for every verb that writes a folder or a file (`zoo train`, `zoo export`, `zoo data pack`,
`zoo demo`), whether `--out` may be written: a new path always; an existing, non-empty
one only with `--overwrite`, and then only when it is an earlier output of the same verb
(recognised by the marker zoo writes there) holding nothing zoo did not write. Never the
source, a folder that contains it or lies inside it, the working directory, `/` or the
home folder. `replace_folder` then swaps a finished folder in: beside, swap, remove the old.
"""

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; writes stay atomic
    fcntl = None


class LockedError(RuntimeError):
    """Another process holds the lock."""


class FileError(ValueError):
    """A file zoo was asked to read is damaged or not what it claims: the message names the
    file (and the member or field), what was expected and what was found."""


def shown(text, limit=120):
    """`text` fit for a one-line message: control characters (a NUL byte included) written
    as escapes, and a long text cut to its first and last characters with its length."""
    text = os.fspath(text) if isinstance(text, os.PathLike) else str(text)
    escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(escaped) <= limit:
        return escaped
    return f"{escaped[:limit * 2 // 3]}...{escaped[-(limit // 4):]} ({len(text)} characters)"


#: The deepest nesting and the largest size of a JSON file zoo parses (zoo's own files
#: nest under 30 levels).
MAX_JSON_DEPTH = 200
MAX_JSON_BYTES = 64 * 2**20
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def parse_json(text, where, max_depth=MAX_JSON_DEPTH, error=FileError, finite=True):
    """Strict JSON of a file zoo reads: nesting deeper than `max_depth` is refused before
    parsing (no RecursionError), and so are NaN and Infinity (not JSON) unless `finite` is
    False.

    Args:
        text: str or bytes (UTF-8).
        where: the file (and member), for messages.
        error: the exception class to raise (a `ValueError`).
        finite: refuse NaN, Infinity and -Infinity (True by default).

    Raises:
        FileError (or `error`): naming `where`, what was expected and what was found.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as failure:
            raise error(f"{where} is not UTF-8 text (byte {failure.start}); it should be "
                        "JSON.") from None
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > max_depth:
                raise error(f"{where} nests deeper than {max_depth} levels (at character "
                            f"{token.start()}); zoo reads no JSON that deep.")
        elif char in "]}":
            depth -= 1

    def constant(name):
        raise error(f"{where} holds {name}, which is not a JSON number; zoo reads finite "
                    "numbers only.")

    try:
        return json.loads(text, parse_constant=constant if finite else None)
    except json.JSONDecodeError as failure:
        raise error(f"{where} is not valid JSON ({failure.msg} at line {failure.lineno}, "
                    f"column {failure.colno}).") from None
    except RecursionError:  # a depth the bracket count missed: refuse it all the same
        raise error(f"{where} nests too deep for zoo to read.") from None


def read_json(path, max_bytes=MAX_JSON_BYTES, error=FileError, **kwargs):
    """`parse_json` of the file at `path`, refused when larger than `max_bytes`."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise error(f"{path} holds {size} bytes; zoo reads JSON files of at most {max_bytes}.")
    return parse_json(path.read_bytes(), str(path), error=error, **kwargs)


def check_path_text(path, what="path"):
    """Refuses a path holding a NUL byte or another control character before the operating
    system sees it.

    Raises:
        FileError: naming the character and where it is.
    """
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    for position, char in enumerate(text):
        if not char.isprintable():
            raise FileError(f"The {what} {shown(text)} holds the control character "
                            f"{repr(char)[1:-1]} at position {position}; a {what} cannot.")
    return text


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; move it over `path` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield tmp
        # mkstemp makes the file private; give it the permissions a new file gets.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path, text):
    """Write `text` to `path` atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


@contextlib.contextmanager
def file_lock(path, wait=60.0):
    """An exclusive advisory lock on `path` (created if missing), held inside the block.

    Args:
        path: the lock file.
        wait: seconds to wait for another holder; 0 refuses at once.

    Raises:
        LockedError: the lock is still held by another process after `wait` seconds.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        if fcntl is not None:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockedError(f"{path} is locked by another process.") from None
                    time.sleep(0.05)
        try:
            yield handle
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


#: Prefixes that name a kind of data before a path (`avec2016:PATH`, `shards:PATH`).
PREFIXES = ("avec2016:", "shards:")


class OverwriteError(ValueError):
    """Writing `--out` would replace something zoo did not write (or the source)."""


def plain_path(spec):
    """`spec` without a data prefix (`avec2016:`, `shards:`), as a path."""
    spec = os.fspath(spec)
    for prefix in PREFIXES:
        if spec.startswith(prefix):
            return spec[len(prefix):]
    return spec


def _within(path, folder):
    return path == folder or folder in path.parents


def check_out(out, kind, earlier, sources=(), overwrite=False, flag="--out",
              error=OverwriteError):
    """Refuses, before any work, an `out` that could not be written without loss.

    Args:
        out: the folder or file the verb writes.
        kind: what an earlier output is, for messages (e.g. "an earlier export").
        earlier: `earlier(path)` returns None when `path` (existing, non-empty) is an
            earlier output of this verb holding only what zoo wrote; otherwise a short
            reason (what it holds that would be lost).
        sources: paths the verb reads (data prefixes are stripped here).
        overwrite: whether an earlier output may be replaced.
        flag: the option's name in messages.
        error: the exception class to raise (a `ValueError`, e.g. the verb's own).

    Raises:
        OverwriteError (or `error`): naming `out` and what would be lost.
    """
    if not os.fspath(out):
        raise error(f"{flag} is empty; name the folder or file to write.")
    check_path_text(out, f"{flag} path")
    target = Path(os.path.abspath(out)).resolve()
    if not target.exists() and not target.is_symlink():
        return
    for name, place in (("the root folder", Path(target.anchor)),
                        ("the working directory", Path.cwd()), ("your home folder", Path.home())):
        if _within(place.resolve(), target):
            what = "is" if place.resolve() == target else "contains"
            raise error(f"{flag} {out} {what} {name}; zoo never replaces it. Choose "
                                 "another folder.")
    for source in sources:
        source = Path(plain_path(source))
        if not source.exists():
            continue
        source = source.resolve()
        if _within(source, target):
            what = "is" if source == target else "holds"
            raise error(f"{flag} {out} {what} the source {source}; zoo never "
                                 "replaces its own input. Choose another " + flag + ".")
    if target.is_dir() and not any(target.iterdir()):
        return
    if not overwrite:
        state = "exists and is not empty" if target.is_dir() else "is a file that exists"
        raise error(f"{flag} {out} {state}; pass --overwrite to replace {kind}, or choose "
                    f"another {flag}.")
    for source in sources:
        source = Path(plain_path(source))
        if source.is_dir() and _within(target, source.resolve()):
            raise error(f"{flag} {out} lies inside the source {source}; zoo never "
                                 "replaces part of its own input. Choose another " + flag + ".")
    reason = earlier(target)
    if reason:
        raise error(f"{flag} {out} is not {kind} ({reason}); --overwrite replaces only "
                             f"{kind}, never other files. Choose another {flag}.")


def foreign_names(folder, expected):
    """A reason naming the entries of `folder` outside `expected`, or None."""
    foreign = sorted(p.name + ("/" if p.is_dir() else "") for p in Path(folder).iterdir()
                     if p.name not in expected)
    if not foreign:
        return None
    shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
    return f"it holds {shown}, which zoo did not write there"


def replace_folder(staged, out):
    """Moves the finished folder `staged` to `out`: an existing `out` is moved aside first,
    and removed only once `staged` is in place (moved back if that fails)."""
    staged, out = Path(staged), Path(out)
    old = None
    if out.exists() or out.is_symlink():
        old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(out, old)
    try:
        os.replace(staged, out)
    except BaseException:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
