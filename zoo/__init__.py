"""zoo: a Keras 3 model zoo for sequence and affect models.

```python
import zoo
zoo.list_models("emotion_*")
model = zoo.get("emotion_downup", input_dim=160, outputs=2)
model.compile(optimizer="adam", loss=zoo.losses.CCCLoss(), metrics=[zoo.metrics.CCC()])
zoo.list_pretrained()                                   # ['char_lm.shakespeare', ...]
lm = zoo.get("char_lm", weights="shakespeare")         # checksum-verified, see zoo.pretrained
```

`import zoo` imports nothing heavy: Keras and its backend load when a model, layer, loss or
metric is first touched. Listing models and pretrained entries reads data only
(`zoo/models/index.json` and the manifests).
"""

from importlib import metadata as _metadata

from zoo._lazy import attach as _attach

__getattr__, __dir__, _names = _attach(__name__, {
    **{module: module for module in ("data", "finetune", "hub", "layers", "losses", "metrics",
                                     "models", "distribute", "export", "pretrained", "recipes")},
    "get": "catalog:get",
    "info": "catalog:info",
    "list_models": "catalog:list_models",
    "list_pretrained": "pretrained:list_pretrained",
    "register_model": "registry:register_model",
    "FileError": "files:FileError",
    "load_model": "saving:load_model",
})

try:
    __version__ = _metadata.version("zoo")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "unknown"

__all__ = [*_names, "__version__"]
