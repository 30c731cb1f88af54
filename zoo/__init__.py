"""zoo: a Keras 3 model zoo for sequence and affect models.

```python
import zoo
zoo.list_models("emotion_*")
model = zoo.get("emotion_downup", input_dim=160, outputs=2)
model.compile(optimizer="adam", loss=zoo.losses.CCCLoss(), metrics=[zoo.metrics.CCC()])
zoo.list_pretrained()                                   # ['char_lm.shakespeare', ...]
lm = zoo.get("char_lm", weights="shakespeare")         # checksum-verified, see zoo.pretrained
```
"""

from importlib import metadata as _metadata

from zoo.cli import quiet as _quiet

if _quiet.running_the_command_line():
    _quiet.import_tensorflow()  # before anything imports TensorFlow: no start-up log lines

from zoo import data, finetune, hub, layers, losses, metrics, models  # noqa: E402
from zoo import distribute, export, pretrained, recipes  # noqa: E402
from zoo.catalog import get, info  # noqa: E402
from zoo.pretrained import list_pretrained  # noqa: E402
from zoo.catalog import list_models  # noqa: E402
from zoo.registry import register_model  # noqa: E402
from zoo.files import FileError  # noqa: E402
from zoo.saving import load_model  # noqa: E402

try:
    __version__ = _metadata.version("zoo")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "unknown"

__all__ = ["get", "info", "load_model", "FileError", "list_models", "list_pretrained", "register_model", "data",
           "layers", "losses", "metrics", "models", "pretrained", "recipes", "finetune", "hub",
           "export", "distribute",
           "__version__"]
