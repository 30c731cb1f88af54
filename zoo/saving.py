"""Opening model files: the hub trust list, and `load_model`, the one way zoo opens a
`.keras` file.

A `.keras` file may hold a `zoo.hub.HubEncoder`, which names a TF Hub module; opening a
module runs its graph, so in Keras's safe mode the module opens only when its handle is on
the trust list the user controls:

- in code: `zoo.hub.trust(path_or_url)` (a relative path is resolved then, against the
  working directory of that moment);
- in the environment: `ZOO_TRUSTED_HUB`, one entry a line, or several on one line
  separated by `os.pathsep` (`:` on POSIX, `;` on Windows). A URL is recognised by its
  scheme (`https://`, `gs://`, ...) before the line is split, so the `:` of a URL, and of
  its port, never splits it: within a URL only a separator followed by the start of
  another entry (another URL, an absolute path, `./`, `../` or `~`) ends it. On POSIX a
  single letter before `:/` or `:\\` is a Windows drive letter, kept with its path. Relative
  paths are resolved when the list is read, against the working directory of that moment.
- on the command line: `--trust-hub PATH` (repeatable).

A trusted folder trusts the modules below it; every path is compared after resolving
symbolic links, so a link inside a trusted folder that points out of it is not trusted. A
relative handle written in a file is resolved against the file's folder, never against the
working directory: `load_model(path)` knows that folder; `keras.models.load_model` does not
tell zoo which file it reads, so there a relative handle is refused in safe mode.
"""

import contextlib
import contextvars
import os
import re
from pathlib import Path

from zoo.files import FileError, check_path_text, parse_json, shown

#: Environment variable with trusted hub handles (folders or URLs).
TRUST_ENV = "ZOO_TRUSTED_HUB"
_TRUSTED = []
#: The folder of the model file being loaded by `load_model`, for relative handles.
_FILE_FOLDER = contextvars.ContextVar("zoo_model_file_folder", default=None)

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://")
#: What starts a new entry after a separator inside a URL.
_ENTRY_START = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://|[/\\~]|\.\.?[/\\]|[A-Za-z]:[/\\]")
_DRIVE = re.compile(r"[A-Za-z]")


def is_url(handle):
    """Whether a hub handle is a URL (a scheme of two or more letters, then `://`)."""
    return _SCHEME.match(os.fspath(handle)) is not None


def split_trust_list(text, sep=os.pathsep):
    """The entries of a `ZOO_TRUSTED_HUB` value, as written (not yet resolved).

    Example:

    ```python
    split_trust_list("https://tfhub.dev/google/m/1:/srv/modules", sep=":")
    # ['https://tfhub.dev/google/m/1', '/srv/modules']
    ```
    """
    entries = []
    for line in text.splitlines():
        pos = 0
        while pos < len(line):
            end = line.find(sep, pos)
            url = _SCHEME.match(line, pos)
            if url:
                end = line.find(sep, url.end())
                while end != -1 and not _ENTRY_START.match(line, end + 1):
                    end = line.find(sep, end + 1)
            elif (sep == ":" and end != -1 and _DRIVE.fullmatch(line[pos:end])
                  and line[end + 1:end + 2] in ("/", "\\")):
                end = line.find(sep, end + 1)
            end = len(line) if end == -1 else end
            entry = line[pos:end].strip()
            if entry:
                entries.append(entry)
            pos = end + 1
    return entries


def _normal(handle, base=None):
    """A URL without its trailing slash, or the absolute, symlink-free path (a relative path
    taken against `base`, default the working directory)."""
    handle = os.fspath(handle)
    if is_url(handle):
        return handle.rstrip("/")
    path = Path(handle).expanduser()
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    return str(path.resolve())


def _check_handle(handle):
    if not isinstance(handle, (str, os.PathLike)) or not os.fspath(handle):
        raise TypeError(f"A hub handle is a path or a URL. Received: {shown(repr(handle))}")
    check_path_text(handle, "hub handle")


def trust(*handles):
    """Allows `.keras` files loaded in safe mode to open these hub handles.

    Args:
        *handles: SavedModel folders (a folder also trusts every module below it; a relative
            path is resolved now) or URLs (trusted by exact string; loaded from the TF Hub
            cache, never fetched).

    Example:

    ```python
    zoo.hub.trust("modules/minilm")
    model = zoo.load_model("finetuned.keras")
    ```
    """
    for handle in handles:
        _check_handle(handle)
        if _normal(handle) not in _TRUSTED:
            _TRUSTED.append(_normal(handle))


def untrust(*handles):
    """Removes handles added by `trust` (no effect on `ZOO_TRUSTED_HUB`)."""
    for handle in handles:
        if _normal(handle) in _TRUSTED:
            _TRUSTED.remove(_normal(handle))


def trusted():
    """The trusted handles: those given to `trust`, then those of `ZOO_TRUSTED_HUB`."""
    from_env = [_normal(h) for h in split_trust_list(os.environ.get(TRUST_ENV, ""))]
    return list(dict.fromkeys(_TRUSTED + from_env))


def is_trusted(handle):
    """Whether `handle` is on the trust list (a folder counts if it lies in a trusted one).

    A relative `handle` is taken against the working directory; `file_handle` gives the
    handle a file names as the path it means.
    """
    handle = _normal(handle)
    for item in trusted():
        if handle == item:
            return True
        if not is_url(handle) and not is_url(item) and Path(handle).is_relative_to(item):
            return True
    return False


def file_handle(handle):
    """The handle a model file names, as zoo opens it: a URL or an absolute path as
    written, a relative path taken against the folder of the file being loaded.

    Raises:
        ValueError: a relative handle while no `load_model` says which file is read.
    """
    if is_url(handle) or Path(handle).expanduser().is_absolute():
        return _normal(handle)
    folder = _FILE_FOLDER.get()
    if folder is None:
        raise TrustError(
            f"This model file names the relative hub handle {handle!r}. A relative handle is "
            "resolved against the model file's folder, never the working directory, and "
            "keras.models.load_model does not say which file it reads: load it with "
            "zoo.load_model(path), or save the model with an absolute handle.")
    return _normal(handle, base=folder)


@contextlib.contextmanager
def reading_file(path):
    """Within the block, relative hub handles resolve against `path`'s folder."""
    token = _FILE_FOLDER.set(str(Path(path).resolve().parent))
    try:
        yield
    finally:
        _FILE_FOLDER.reset(token)


#: What a `.keras` file must hold, and the most zoo reads of each part.
REQUIRED_MEMBERS = ("config.json",)
MAX_CONFIG_BYTES = 64 * 2**20
MAX_MEMBERS = 100_000
MAX_ARCHIVE_BYTES = 64 * 2**30
#: Packages whose objects a file may name; Keras imports from no others either.
ALLOWED_PACKAGES = ("keras", "keras_hub", "zoo")
#: Keras's own markers for values that are not objects (tuples, arrays, tensors...).
_VALUE_MARKERS = ("__tuple__", "__numpy__", "__tensor__", "__bytes__", "__ellipsis__",
                  "__slice__", "__typespec__", "__keras_tensor__")
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _name(path):
    """A file's path in a message: whole (it is the user's), control characters escaped."""
    return shown(path, limit=4096)


class TrustError(ValueError):
    """A model file names a hub module that is not on the trust list."""


def _named_objects(node, where):
    """`(where, module, name, class_name)` of every object a parsed config names."""
    stack = [(node, where)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("class_name"), str) and "config" in node:
                inner = node.get("config")
                name = inner if isinstance(inner, str) else node["class_name"]
                yield where, node.get("module"), name, node["class_name"]
            stack.extend((value, f"{where}.{key}") for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((value, f"{where}[{i}]") for i, value in enumerate(node))


def check_config(config, file):
    """Refuses a config that names an object outside Keras and zoo, or code.

    Raises:
        FileError: naming the file, the place in config.json and the object.
    """
    import builtins

    for where, module, name, class_name in _named_objects(config, "config"):
        if class_name in _VALUE_MARKERS:
            continue
        package = module.split(".")[0] if isinstance(module, str) else None
        foreign = package is not None and package not in ALLOWED_PACKAGES and package != "builtins"
        code = class_name == "__lambda__" or (package == "builtins" and hasattr(builtins, name))
        unsafe = package in ("keras", "keras_hub") and class_name == "function" and any(
            part in module.split(".") for part in ("config", "saving", "utils"))
        if foreign or code or unsafe:
            role = where.rsplit(".", 1)[-1]
            what = ("Python code" if class_name == "__lambda__"
                    else f"`{shown(module)}.{shown(name)}`")
            raise FileError(f"{file}: config.json names {what} as {role!r} ({shown(where, 60)}); "
                            "zoo loads only Keras and zoo objects from a file.")


def check_archive(path):
    """Checks a `.keras` file before Keras reads it: a whole zip archive (every member's
    CRC), the members Keras needs, sizes within limits, a config that parses within the
    depth limit and names only Keras and zoo objects, weights in HDF5.

    Returns:
        The parsed config.

    Raises:
        FileError: naming the file, the member, what was expected and what was found.
    """
    import zipfile

    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise FileError(f"{_name(path)} is not a .keras file (a .keras file is a zip archive): "
                        f"{shown(error, 60)}.") from None
    with archive:
        members = archive.infolist()
        names = {m.filename for m in members}
        for required in REQUIRED_MEMBERS:
            if required not in names:
                raise FileError(f"{_name(path)} has no {required}: not a .keras file, or a "
                                "damaged one.")
        total = sum(m.file_size for m in members)
        if len(members) > MAX_MEMBERS or total > MAX_ARCHIVE_BYTES:
            raise FileError(f"{_name(path)} unpacks to {len(members)} members, {total} bytes; "
                            f"zoo reads at most {MAX_MEMBERS} members, {MAX_ARCHIVE_BYTES} bytes.")
        config_size = archive.getinfo("config.json").file_size
        if config_size > MAX_CONFIG_BYTES:
            raise FileError(f"{_name(path)}: config.json unpacks to {config_size} bytes; zoo "
                            f"reads at most {MAX_CONFIG_BYTES}.")
        try:
            bad = archive.testzip()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
            raise FileError(f"{_name(path)} is damaged: {shown(error, 80)}.") from None
        if bad is not None:
            raise FileError(f"{_name(path)} is damaged: member {shown(bad)} fails its CRC-32 "
                            "check.")
        # Keras writes a config's infinite values (a clip bound, say) as JSON's Infinity.
        config = parse_json(archive.read("config.json"), f"{_name(path)}: config.json",
                            finite=False)
        if not isinstance(config, dict):
            raise FileError(f"{_name(path)}: config.json should hold a JSON object (a model's "
                            f"config); it holds {type(config).__name__}.")
        if "model.weights.h5" in names:
            with archive.open("model.weights.h5") as weights:
                head = weights.read(8)
            if head != _HDF5_SIGNATURE:
                kind = " (it looks like a pickle)" if head[:1] == b"\x80" else ""
                raise FileError(f"{_name(path)}: model.weights.h5 is not an HDF5 file{kind}; "
                                f"it starts with {head!r}.")
    check_config(config, _name(path))
    return config


#: The packages whose import registers every class a `.keras` file of zoo's may name.
REGISTERING = ("zoo.layers", "zoo.losses", "zoo.metrics", "zoo.hub", "zoo.models")


def register_classes():
    """Imports `REGISTERING`, so that Keras finds zoo's classes by their registered names.

    `import zoo` alone registers none (it imports no Keras); `zoo.load_model` calls this
    first; call it (or `import zoo.models`) before a plain `keras.models.load_model`.
    """
    import importlib

    for package in REGISTERING:
        importlib.import_module(package)


def load_model(path, trust_hub=(), compile=True):
    """Opens a `.keras` file in Keras's safe mode, with zoo's checks and trust list.

    The archive is checked before Keras sees it (`check_archive`); hub modules open only
    from the trust list, relative handles beside the file.

    Args:
        path: the `.keras` file.
        trust_hub: hub handles to trust while this file loads (as `trust` takes them).
        compile: as in `keras.models.load_model`.

    Returns:
        The model.

    Raises:
        FileNotFoundError: no file at `path`.
        FileError: a damaged file, or one that is not a `.keras` archive, or names objects
            outside Keras and zoo.
        TrustError: the file names a hub module that is not trusted.
    """
    import keras

    check_path_text(path)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"There is no model file at {_name(path)}.")
    check_archive(path)
    register_classes()
    added = [h for h in map(_normal, trust_hub) if h not in _TRUSTED]
    trust(*trust_hub)
    try:
        with reading_file(path):
            return keras.models.load_model(path, compile=compile, safe_mode=True)
    except (TrustError, FileError):
        raise
    except Exception as error:  # Keras and h5py raise many kinds for a damaged file
        message = " ".join(str(error).split())
        raise FileError(f"{_name(path)}: Keras could not rebuild the model from it "
                        f"({type(error).__name__}: {shown(message, 160)}).") from error
    finally:
        for handle in added:
            _TRUSTED.remove(handle)
