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

__version__ = "0.1.0"

from zoo import _quiet  # noqa: E402

if _quiet.running_the_command_line():
    _quiet.import_tensorflow()  # before anything imports TensorFlow: no start-up log lines

from zoo import data, evaluation, finetune, hub, layers, losses, metrics, models, pb_space  # noqa: E402
from zoo import pretrained, text  # noqa: E402
from zoo.pretrained import list_pretrained  # noqa: E402
from zoo.registry import get, info, list_models, register_model  # noqa: E402

__all__ = ["get", "info", "list_models", "list_pretrained", "register_model", "data",
           "evaluation", "layers", "losses", "metrics", "models", "pb_space", "pretrained",
           "finetune", "hub", "text", "__version__"]
