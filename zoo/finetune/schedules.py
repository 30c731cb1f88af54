"""Fine-tuning in stages: which layers train, at which learning rate, for how many epochs.

`fit_stages(model, x, y, stages=[Stage(...), ...])` runs each stage as its own `fit`
(Keras 3 applies `trainable` changes only at compile time), recompiling in between with
the loss and metrics the model was compiled with, and returns one `History` covering all
epochs, with the stage and learning rate of every epoch added.

Ready-made schedules:
- `two_stage(head=..., top=k)`: train the head with the encoder frozen at 1e-3, then
  unfreeze the top `k` layers at a 10x lower rate (the recipe of Y. Huang's RNN
  lecture, GWU DATS 6202, 2020).
- `gradual_unfreezing(model, epochs_per_stage=1)`: ULMFiT's schedule, one more layer group
  per stage, top first (Howard & Ruder 2018).
- `discriminative_rates(model, top_rate, factor=2.6)`: one rate per layer group, each lower
  group at the rate above divided by `factor` (ULMFiT); pass it as a stage's
  `learning_rate` and the stage trains with a `LayerwiseOptimizer`.
"""

from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from zoo.finetune.freezing import freeze, layer_groups, select, unfreeze, unfreeze_layer
from zoo.models.progress import resolve


@dataclass
class Stage:
    """One phase of fine-tuning.

    Attributes:
        epochs: positive int.
        trainable: which layers train (all others are frozen): `"all"`, an int `k` (the
            top `k` layers that hold weights), a layer name, index, predicate or a list
            of these (see `zoo.finetune.select`).
        learning_rate: a float, or a dict `{layer name: rate}` (e.g. from
            `discriminative_rates`) for one rate per layer.
        optimizer: None to reuse the class and settings of the optimizer the model was
            compiled with (a fresh instance: no slot state carries over); or an optimizer
            name or class.
        keep_batchnorm_frozen: BatchNormalization layers stay in inference mode even when
            their part of the model trains. Default True.
    """

    epochs: int
    trainable: Any = "all"
    learning_rate: Any = 1e-3
    optimizer: Any = None
    keep_batchnorm_frozen: bool = True
    name: str = field(default="")


class LayerwiseOptimizer(keras.optimizers.Optimizer):
    """Several copies of one optimizer, each with its own learning rate for some layers.

    Keras 3 optimizers have one learning rate; discriminative fine-tuning needs one per
    layer group. Each variable is updated by the copy that owns its layer.

    Args:
        base: an optimizer instance whose class and settings the copies share.
        rates: dict `{layer: rate}` (layer objects).
    """

    def __init__(self, base, rates, name="layerwise", **kwargs):
        super().__init__(learning_rate=max(rates.values()), name=name, **kwargs)
        config = base.get_config()
        self.template = base
        self.rates = {layer.name: float(rate) for layer, rate in rates.items()}
        self.optimizers = {}
        self._owner = {}
        for layer, rate in rates.items():
            copy = type(base).from_config({**config, "learning_rate": float(rate),
                                           "name": f"{config['name']}_{layer.name}"})
            self.optimizers[layer.name] = copy
            for variable in layer.trainable_weights:
                self._owner[id(variable)] = layer.name

    def build(self, variables):
        super().build(variables)
        for name, optimizer in self.optimizers.items():
            optimizer.build([v for v in variables if self._owner.get(id(v)) == name])

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None:  # JAX's stateless_apply passes the gradients only
            trainable_variables = self._trainable_variables
        if not self.built:
            self.build(trainable_variables)
        grads, trainable_variables = list(grads), list(trainable_variables)
        for name, optimizer in self.optimizers.items():
            pairs = [(g, v) for g, v in zip(grads, trainable_variables)
                     if self._owner.get(id(v)) == name and g is not None]
            if pairs:
                optimizer.apply([g for g, _ in pairs], [v for _, v in pairs])
        unowned = [v.path for g, v in zip(grads, trainable_variables)
                   if g is not None and id(v) not in self._owner]
        if unowned:
            raise ValueError(f"No learning rate was given for the variables {unowned}.")
        self.iterations.assign_add(1)

    def apply_gradients(self, grads_and_vars):
        grads, variables = zip(*grads_and_vars)
        return self.apply(grads, variables)

    @property
    def variables(self):
        extra = [v for optimizer in self.optimizers.values() for v in optimizer.variables]
        return list(super().variables) + extra

    def learning_rate_of(self, layer_name):
        """The learning rate the copy owning `layer_name` uses, read from its optimizer."""
        return float(keras.ops.convert_to_numpy(self.optimizers[layer_name].learning_rate))


def discriminative_rates(model, top_rate, factor=2.6, groups=None):
    """`{layer name: rate}`: the top layer group at `top_rate`, each lower one / `factor`.

    Args:
        model: a Keras model.
        top_rate: learning rate of the top group.
        factor: ratio between neighbouring groups, default 2.6 (ULMFiT).
        groups: None for every top-level layer that holds weights; or the layer names,
            bottom first.
    """
    names = [layer.name for layer in layer_groups(model)] if groups is None else list(groups)
    count = len(names)
    return {name: top_rate / factor ** (count - 1 - i) for i, name in enumerate(names)}


def _recompile(model, stage, compile_config):
    base = model.optimizer
    base = getattr(base, "template", base)  # a LayerwiseOptimizer from the stage before
    if stage.optimizer is not None:
        base = keras.optimizers.get(stage.optimizer) if isinstance(stage.optimizer, str) else stage.optimizer()
    rates = stage.learning_rate
    if isinstance(rates, dict):
        layers = {layer.name: layer for layer in model.layers}
        missing = [name for name in rates if name not in layers]
        if missing:
            raise ValueError(f"`learning_rate` names unknown layers: {missing}.")
        optimizer = LayerwiseOptimizer(base, {layers[n]: r for n, r in rates.items() if layers[n].trainable})
    else:
        optimizer = type(base).from_config({**base.get_config(), "learning_rate": float(rates)})
    model.compile(**{**compile_config, "optimizer": optimizer})
    return optimizer


def fit_stages(model, x, y=None, stages=(), validation_data=None, callbacks=None,
               verbose="auto", **fit_kwargs):
    """Runs `stages` one after another; returns one `History` for all of them.

    The model must be compiled first: each stage recompiles it with the same loss,
    metrics and optimizer class, its own trainable layers and learning rate.

    Args:
        model: a compiled Keras model.
        x, y, validation_data, callbacks, verbose, **fit_kwargs: as in `Model.fit`;
            `verbose="auto"` is a bar in a terminal and a line per epoch otherwise.
        stages: a list of `Stage`.

    Returns:
        A `keras.callbacks.History` whose `history` holds every epoch of every stage,
        plus `stage` (index) and `learning_rate` (the top rate) per epoch.
    """
    if not model.compiled:
        raise ValueError("Compile the model first: fit_stages keeps its loss and metrics.")
    if not stages:
        raise ValueError("`stages` is empty.")
    compile_config = keras.saving.deserialize_keras_object(model.get_compile_config())
    compile_config.pop("optimizer", None)
    verbose = resolve(verbose)
    merged = keras.callbacks.History()
    merged.history = {}
    merged.epoch = []
    epoch = 0
    for index, stage in enumerate(stages):
        if not isinstance(stage.epochs, int) or stage.epochs <= 0:
            raise ValueError(f"Stage {index}: `epochs` must be a positive int. Received: {stage.epochs!r}")
        freeze(model)
        if isinstance(stage.trainable, int) and not isinstance(stage.trainable, bool):
            unfreeze(model, top=stage.trainable, keep_batchnorm_frozen=stage.keep_batchnorm_frozen)
        else:
            chosen = select(model, stage.trainable)
            for layer in chosen:
                unfreeze_layer(layer, stage.keep_batchnorm_frozen)
        optimizer = _recompile(model, stage, compile_config)
        if not isinstance(x, (np.ndarray, list, tuple)) and hasattr(x, "__iter__"):
            # A dataset or generator orders itself; Keras warns when told to shuffle one.
            fit_kwargs.setdefault("shuffle", False)
        history = model.fit(x, y, validation_data=validation_data, callbacks=callbacks,
                            verbose=verbose, initial_epoch=epoch, epochs=epoch + stage.epochs,
                            **fit_kwargs)
        rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        for key, values in history.history.items():
            merged.history.setdefault(key, []).extend(values)
        merged.history.setdefault("stage", []).extend([index] * len(history.epoch))
        merged.history.setdefault("learning_rate", []).extend([rate] * len(history.epoch))
        merged.epoch += list(history.epoch)
        epoch += len(history.epoch)
        if model.stop_training:
            break
    merged.set_model(model)
    return merged


def two_stage(head, top=2, epochs=(5, 5), learning_rate=1e-3, ratio=10.0):
    """The seed's recipe: train `head` with everything else frozen, then the top layers.

    Args:
        head: the head's layer name(s) (or a predicate).
        top: layer groups unfrozen in stage 2 (the head included).
        epochs: epochs of the two stages.
        learning_rate: stage 1 rate; stage 2 uses `learning_rate / ratio`.
    """
    return [
        Stage(epochs[0], trainable=head, learning_rate=learning_rate, name="head"),
        Stage(epochs[1], trainable=top, learning_rate=learning_rate / ratio, name=f"top {top}"),
    ]


def gradual_unfreezing(model, epochs_per_stage=1, learning_rate=1e-3, factor=None):
    """ULMFiT's gradual unfreezing: stage k trains the top k layer groups.

    Args:
        model: the model (its layer groups set the number of stages).
        epochs_per_stage: epochs of each stage.
        learning_rate: the rate of the top group.
        factor: None for one rate everywhere; a float (ULMFiT: 2.6) for discriminative
            rates, each lower group at the rate above / `factor`.
    """
    groups = layer_groups(model)
    stages = []
    for k in range(1, len(groups) + 1):
        rate = learning_rate
        if factor is not None:
            rates = discriminative_rates(model, learning_rate, factor)
            rate = {layer.name: rates[layer.name] for layer in groups[len(groups) - k :]}
        stages.append(Stage(epochs_per_stage, trainable=k, learning_rate=rate, name=f"top {k}"))
    return stages
