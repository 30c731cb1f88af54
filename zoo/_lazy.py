"""Package attributes that import their module when first read (PEP 562).

`import zoo` and `zoo.list_models()` stay cheap: Keras and its backend load only when a
model, layer, loss or metric is first touched. A package lists what it offers and where
each name lives; nothing is imported until the name is read:

```python
__getattr__, __dir__, __all__ = attach(__name__, {
    "synthetic": "synthetic",           # the submodule zoo.data.synthetic
    "load_avec": "avec:load_avec",      # zoo.data.avec.load_avec
})
```
"""

import importlib
import sys


def attach(package, names):
    """`(__getattr__, __dir__, __all__)` for `package`, whose attributes are `names`:
    attribute -> "submodule" or "submodule:attribute" (relative to `package`)."""

    def __getattr__(name):
        target = names.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module_name, _, attribute = target.partition(":")
        module = importlib.import_module(f"{package}.{module_name}")
        value = getattr(module, attribute) if attribute else module
        setattr(sys.modules[package], name, value)  # read once; later reads skip this
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__, sorted(names)
