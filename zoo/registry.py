"""Model names to builder functions.

Entries are thin factory functions registered with `register_model`; the function name is
the model name (as in timm). A factory takes keyword overrides and returns an uncompiled
`keras.Model`.
"""

import difflib
import fnmatch
import inspect

from zoo.validation import check_settings

_MODELS = {}


def register_model(fn=None, *, name=None):
    """Register a model factory under its function name (or `name`).

    Example:

    ```python
    @register_model
    def emotion_tiny(**overrides):
        return EmotionDilated(**{"layers": 2, **overrides})
    ```
    """

    def wrap(f):
        key = name or f.__name__
        if key in _MODELS and _MODELS[key] is not f:
            raise ValueError(f"A model named '{key}' is already registered.")
        _MODELS[key] = f
        return f

    return wrap(fn) if fn is not None else wrap


def list_models(pattern="*"):
    """Sorted names of registered models matching an fnmatch `pattern`."""
    return sorted(n for n in _MODELS if fnmatch.fnmatchcase(n, pattern))


def _factory(name):
    if not isinstance(name, str):
        raise TypeError(f"A model name must be a string. Received: {name!r}")
    if name not in _MODELS:
        close = difflib.get_close_matches(name, list(_MODELS), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(
            f"Unknown model '{name}'.{hint} Known models: {', '.join(list_models())}."
        )
    return _MODELS[name]


def check_overrides(name, factory, overrides):
    """A TypeError with a close-match hint for settings a factory with a fixed signature
    does not take (factories that forward `**overrides` leave it to the model class)."""
    parameters = inspect.signature(factory).parameters.values()
    if any(p.kind == p.VAR_KEYWORD for p in parameters):
        return
    check_settings(f"Model '{name}'", list(overrides), [p.name for p in parameters])


def get(name, /, weights=None, **overrides):
    """Build the model registered as `name`, uncompiled.

    Args:
        name: a name from `list_models()`.
        weights: `None` for random initialisation, or a tag of `zoo.list_pretrained(name + ".*")`
            (e.g. `"japanese_vowels"`): the card's settings, with its checksum-verified
            weights. With a tag, head settings (e.g. `classes=5`) rebuild the head and load
            the rest; settings the weights depend on must match the card.
        **overrides: hyperparameters passed to the model's constructor, e.g.
            `input_dim=40`, `outputs=1`.

    Returns:
        A `keras.Model`.
    """
    factory = _factory(name)
    check_overrides(name, factory, overrides)
    if weights is not None:
        if not isinstance(weights, str):
            raise TypeError(f"`weights` must be None or a tag string. Received: {weights!r}")
        from zoo import pretrained

        return pretrained.load(name, weights, **overrides)
    return factory(**overrides)


def info(name):
    """Facts about a registered model: parameters, receptive field, paper and settings.

    Returns:
        A dict with `name`, `summary` (the factory's docstring), `class`, `parameters`
        (count at the default settings; None for a model that is built by its first
        `fit`, such as `rnnpb`, whose size depends on the data), `receptive_field` (frames, or None where the
        idea does not apply), `reference` and `settings` (the constructor config).
    """
    from zoo import pretrained

    factory = _factory(name)
    model = factory()
    doc = inspect.getdoc(factory) or ""
    return {
        "name": name,
        "summary": doc,
        "class": type(model).__name__,
        "parameters": int(model.count_params()) if model.built else None,
        "receptive_field": getattr(model, "receptive_field", None),
        "reference": getattr(model, "reference", None),
        "settings": model.get_config(),
        "pretrained": pretrained.cards(name),
    }
