"""`zoo.get` and `zoo.info`: a model by name, with or without pretrained weights.

The one place that composes the registry (names to factories) and `zoo.pretrained`
(weights and cards), so that neither needs the other.
"""

import argparse
import inspect
import json

from zoo import pretrained, registry
from zoo import pretrained as pretrained_module  # `pretrained` is also an argument name
from zoo.files import write_text


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
    if weights is None:
        return registry.build(name, **overrides)
    registry.check_overrides(name, registry.factory(name), overrides)
    if not isinstance(weights, str):
        raise TypeError(f"`weights` must be None or a tag string. Received: {weights!r}")
    return pretrained.load(name, weights, **overrides)


def _pretrained_tags():
    """Model name -> the tags of its pretrained entries."""
    tags = {}
    for key in pretrained_module.list_pretrained():
        name, tag = key.split(".", 1)
        tags.setdefault(name, []).append(tag)
    return tags


def list_models(pattern="*", pretrained=False, _tags=None):
    """Sorted names of registered models matching an fnmatch `pattern`.

    Args:
        pretrained: True lists only the models that have pretrained weights
            (`zoo.list_pretrained(name + ".*")` is not empty), as timm's
            `list_models(pretrained=True)` does.
    """
    names = registry.list_models(pattern)
    if not pretrained:
        return names
    held = _pretrained_tags() if _tags is None else _tags
    return [name for name in names if name in held]


def listing(pattern="*", pretrained=False):
    """One row a model for `zoo list`: name, task, pretrained tags and one-line summary."""
    tags = _pretrained_tags()
    return [{"name": name, "task": registry.task(name), "pretrained": tags.get(name, []),
             "summary": registry.summary(name)}
            for name in list_models(pattern, pretrained, _tags=tags)]


def info(name):
    """Facts about a registered model: parameters, receptive field, paper and settings.

    The zoo's own models answer from `zoo/models/index.json` (no Keras import); a model you
    registered is built at its defaults to answer.

    Returns:
        A dict with `name`, `summary` (the factory's docstring), `class`, `parameters`
        (count at the default settings; None for a model that is built by its first
        `fit`, such as `rnnpb`, whose size depends on the data), `receptive_field`
        (frames, or None where the idea does not apply), `reference`, `settings` (the
        constructor config), `tensor_products` (for tensor cells: format, rank, and
        parameters against the full tensor's) and `pretrained` (the cards).
    """
    if registry._own(name):
        entry = {key: value for key, value in registry.index()[name].items() if key != "task"}
        return {"name": name, "summary": entry.pop("doc"), **entry,
                "pretrained": pretrained.cards(name)}
    return {**built_facts(name), "pretrained": pretrained.cards(name)}


def built_facts(name):
    """What `info` says of model `name`, read off the model built at its defaults."""
    factory = registry.factory(name)  # an unknown name is refused before Keras loads
    from zoo.layers.tensor_product import tensor_summary

    model = registry.build(name)
    return {
        "name": name,
        "summary": inspect.getdoc(factory) or "",
        "class": type(model).__name__,
        "parameters": int(model.count_params()) if model.built else None,
        "receptive_field": getattr(model, "receptive_field", None),
        "reference": getattr(model, "reference", None),
        "settings": model.get_config(),
        "tensor_products": tensor_summary(model),
    }


def index_entry(name):
    """The entry of `zoo/models/index.json` for model `name`, as JSON would read it back."""
    facts = built_facts(name)
    entry = {"task": registry.task(name), "doc": facts.pop("summary"),
             **{k: v for k, v in facts.items() if k != "name"}}
    return json.loads(json.dumps(entry, default=str))


def index_text(names=None):
    """The text of `zoo/models/index.json` for the zoo's own models (all registered ones
    whose factory lives in the `zoo` package)."""
    registry._register_all()
    if names is None:
        names = [n for n in registry.list_models()
                 if registry.factory(n).__module__.startswith("zoo.")]
    models = {name: index_entry(name) for name in sorted(names)}
    return json.dumps({"format": 1, "models": models}, indent=1, sort_keys=True) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m zoo.catalog",
                                     description="Rewrite zoo/models/index.json from the models.")
    parser.add_argument("--write-index", action="store_true", help="rewrite the file")
    args = parser.parse_args(argv)
    text = index_text()
    if args.write_index:
        write_text(registry.INDEX, text)
        print(f"wrote {registry.INDEX}")
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
