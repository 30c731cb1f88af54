"""Model names to builder functions.

Entries are thin factory functions registered with `register_model`; the function name is
the model name (as in timm). A factory takes keyword overrides and returns an uncompiled
`keras.Model`. The registry knows names only: pretrained weights (`zoo.pretrained`) build
on it, and `zoo.catalog` composes the two into `zoo.get` and `zoo.info`.

The zoo's own models are also data: `zoo/models/index.json` holds each one's task,
docstring and default settings, so listing and describing them imports no Keras. The first
factory asked for imports `zoo.models`, which registers every model.
`python -m zoo.catalog --write-index` rewrites the file; a test keeps it true.
"""

import difflib
import fnmatch
import functools
import importlib
import inspect
import json
from pathlib import Path

INDEX = Path(__file__).parent / "models" / "index.json"

_MODELS = {}
_TASKS = {}


@functools.cache
def index():
    """The zoo's own models as data: name -> task, doc, class, parameters and settings."""
    return json.loads(INDEX.read_text(encoding="utf-8"))["models"]


def _own(name):
    """Whether `name` is one of the zoo's models and no user factory took it over."""
    if not isinstance(name, str) or name not in index():
        return False  # a non-string name is refused by `factory`
    return name not in _MODELS or _MODELS[name].__module__.startswith("zoo.")


def _register_all():
    importlib.import_module("zoo.models")

#: What data a model takes, declared with its factory: the command line, the recipes and
#: the shard reader ask the model's task instead of matching names. A pack's `kind`
#: (`zoo.data.shards`) is one of the first three.
TASKS = {
    "frames": "frame-labelled recordings (features -> values per frame, AVEC layout)",
    "classes": "sequences with one class each (UEA .ts sets)",
    "tokens": "text as character ids (next-character prediction)",
    "rolls": "piano rolls (the notes of the next frame)",
    "pb": "sequences learnt into parametric-bias vectors (UEA sets, labels optional)",
    "sentences": "sentences with a score each",
}


def register_model(fn=None, *, name=None, task=None):
    """Register a model factory under its function name (or `name`).

    Args:
        task: a key of `TASKS`: the data the model takes (e.g. `"frames"` for a
            frame-level regressor); None for a model that declares none (it trains from
            Python only).

    Example:

    ```python
    @register_model(task="frames")
    def emotion_tiny(**overrides):
        return EmotionDilated(**{"depth": 2, **overrides})
    ```
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"`task` must be one of {', '.join(TASKS)} or None. "
                         f"Received: task={task!r}")

    def wrap(f):
        key = name or f.__name__
        if key in index() and key not in _MODELS and not f.__module__.startswith("zoo."):
            _register_all()  # the zoo's own model of that name is registered first
        if key in _MODELS and _MODELS[key] is not f:
            raise ValueError(f"A model named '{key}' is already registered.")
        _MODELS[key] = f
        _TASKS[key] = task
        return f

    return wrap(fn) if fn is not None else wrap


def task(name):
    """The task (a key of `TASKS`) that model `name` declared, or None."""
    if _own(name):
        return index()[name]["task"]
    factory(name)
    return _TASKS.get(name)


#: The settings a task's data fixes, as the factories name them: a recipe reads them from
#: the data (`build_for_data`), and the caller's own settings may not change them.
SIZES = {
    "frames": ("input_dim", "outputs"),
    "classes": ("input_dim", "classes"),
    "tokens": ("vocabulary",),
}


def data_settings(name):
    """The settings that the data of model `name`'s task fixes (`SIZES`), e.g.
    `("input_dim", "outputs")` for a frame regressor; `()` for a task that fixes none."""
    return SIZES.get(task(name), ())


def build_for_data(name, sizes, /, **overrides):
    """Model `name` sized by its data: `sizes` holds at least the settings its task's
    data fixes (`data_settings(name)`; other keys are left out), `overrides` the caller's
    own settings, which may not name those.

    Raises:
        ValueError: an override names a setting the data fixes.
    """
    fixed = data_settings(name)
    clash = [k for k in fixed if k in overrides]
    if clash:
        raise ValueError(f"{', '.join(clash)}: set by the data {name} trains on (with "
                         f"{', '.join(fixed)}); leave {'it' if len(clash) == 1 else 'them'} "
                         "out of the settings.")
    return build(name, **{k: sizes[k] for k in fixed}, **overrides)


def models_for(task_name):
    """Sorted names of the registered models that take `task_name` data."""
    return sorted(n for n in list_models() if task(n) == task_name)


def check_task(name, kind, source):
    """A ValueError naming both kinds and the models that fit, unless model `name` takes
    `kind` data (a key of `TASKS`); `source` is what the message calls the data."""
    wanted = task(name)
    if wanted == kind:
        return
    takes = f"takes {TASKS[wanted]}" if wanted else "declares no data it takes"
    fits = models_for(kind)
    raise ValueError(f"{name} {takes}; {source} holds {TASKS[kind]}. Models for it: "
                     f"{', '.join(fits) if fits else 'none registered'}.")


def list_models(pattern="*"):
    """Sorted names of registered models matching an fnmatch `pattern`."""
    if not isinstance(pattern, str):
        raise TypeError(f"`pattern` must be an fnmatch string such as 'emotion_*'. Received: "
                        f"{pattern!r}")
    return sorted(n for n in set(_MODELS) | set(index()) if fnmatch.fnmatchcase(n, pattern))


def summary(name):
    """The first paragraph of the model's factory docstring, on one line."""
    doc = doc_of(name)
    return " ".join(doc.split("\n\n", 1)[0].split())


def doc_of(name):
    """The model's factory docstring (cleaned as `inspect.getdoc` does)."""
    if _own(name):
        return index()[name]["doc"]
    return inspect.getdoc(factory(name)) or ""


def factory(name):
    """The factory registered as `name`; a ValueError with close matches if there is none."""
    if not isinstance(name, str):
        raise TypeError(f"A model name must be a string. Received: {name!r}")
    if name not in _MODELS and name in index():
        _register_all()
    if name not in _MODELS:
        close = difflib.get_close_matches(name, list_models(), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(
            f"Unknown model '{name}'.{hint} Known models: {', '.join(list_models())}."
        )
    return _MODELS[name]


def check_overrides(name, factory, overrides):
    """A TypeError with a close-match hint for settings a factory with a fixed signature
    does not take (factories that forward `**overrides` leave it to the model class)."""
    from zoo.validation import check_settings

    parameters = inspect.signature(factory).parameters.values()
    if any(p.kind == p.VAR_KEYWORD for p in parameters):
        return
    check_settings(f"Model '{name}'", list(overrides), [p.name for p in parameters])


def build(name, /, **overrides):
    """Build the model registered as `name` with random weights, uncompiled.

    `zoo.get` is this plus pretrained weights (`zoo.get(name, weights=tag)`).

    Args:
        name: a name from `list_models()`.
        **overrides: hyperparameters passed to the model's constructor.

    Returns:
        A `keras.Model`.
    """
    fn = factory(name)
    check_overrides(name, fn, overrides)
    return fn(**named(name, fn, overrides))


def named(name, fn, overrides):
    """`overrides` with the model's `name` defaulting to its registered name where factory
    `fn` takes one (else Keras calls every `SequenceClassifier` `sequence_classifier_N`)."""
    parameters = inspect.signature(fn).parameters
    takes = "name" in parameters or any(p.kind == p.VAR_KEYWORD for p in parameters.values())
    return {"name": name, **overrides} if takes and "name" not in overrides else overrides
