"""Fine-tuning: freeze and unfreeze layers, and train in stages (see `schedules`)."""

from zoo.finetune.freezing import (freeze, layer_groups, select, trainable_summary, unfreeze,
                                   unfreeze_layer)
from zoo.finetune.schedules import (LayerwiseOptimizer, Stage, discriminative_rates, fit_stages,
                                    gradual_unfreezing, two_stage)

__all__ = ["freeze", "unfreeze", "select", "layer_groups", "trainable_summary", "Stage",
           "fit_stages", "two_stage", "gradual_unfreezing", "discriminative_rates",
           "LayerwiseOptimizer", "unfreeze_layer"]
