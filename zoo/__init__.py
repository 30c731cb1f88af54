"""zoo: a Keras 3 model zoo for sequence and affect models.

```python
import zoo
zoo.list_models("emotion_*")
model = zoo.get("emotion_downup", input_dim=160, outputs=2)
model.compile(optimizer="adam", loss=zoo.losses.CCCLoss(), metrics=[zoo.metrics.CCC()])
```
"""

__version__ = "0.1.0"

from zoo import data, finetune, hub, layers, losses, metrics, models, pb_space  # noqa: E402
from zoo.registry import get, info, list_models, register_model  # noqa: E402

__all__ = ["get", "info", "list_models", "register_model", "data", "layers", "losses", "metrics",
           "models", "pb_space", "finetune", "hub", "__version__"]
