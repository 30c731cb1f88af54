"""`zoo.backend` on JAX: pure functions of the variables' values under a `StatelessScope`.

A JAX function that reads a Keras variable outside a stateless scope bakes its value in
when traced; these helpers pass the values in at each call instead, and collect the
updates a stateful step makes (`optimizer.apply`, `variable.assign`) from the scope.
"""

import contextlib

import jax
import keras


def float64_available():
    return bool(jax.config.jax_enable_x64)


def _all_variables(model):
    if model is None:
        return []
    seen, variables = set(), []
    for v in list(model.variables) + list(getattr(model, "optimizer", None) and
                                           model.optimizer.variables or []):
        if id(v) not in seen:
            seen.add(id(v))
            variables.append(v)
    return variables


def value_and_grad(fn, tensors, variables, model):
    # The variables' current values (those of an enclosing stateless scope, if any),
    # so that a nested scope does not fall back to the stored values.
    context = [(v, v.value) for v in _all_variables(model) if id(v) not in
               {id(w) for w in variables}]

    def pure(tensor_values, variable_values):
        with keras.StatelessScope(context + list(zip(variables, variable_values))):
            return fn(*tensor_values)

    (value, aux), (tensor_grads, variable_grads) = jax.value_and_grad(
        pure, argnums=(0, 1), has_aux=True)(tensors, [v.value for v in variables])
    return value, aux, list(tensor_grads), list(variable_grads)


def function(model, fn, jit):
    variables = _all_variables(model)

    @jax.jit
    def pure(values, *args):
        with keras.StatelessScope(list(zip(variables, values))):
            return fn(*args)

    def call(*args):
        return pure([v.value for v in variables], *args)

    return call


def _run(groups, step, data):
    """Runs `step(data)` with `groups` (lists of (variables, values)) mapped; returns the
    logs and each group's values after the step."""
    mapping = [pair for variables, values in groups for pair in zip(variables, values)]
    with keras.StatelessScope(mapping) as scope:
        logs = step(data)
    # Every variable is in the mapping, so the scope holds each one's value after the step.
    return logs, [[scope.get_current_value(v) for v in variables] for variables, _ in groups]


def train_step(model, step, args):
    state, data = args
    trainable, non_trainable, optimizer_values, metric_values = state
    groups = [(model.trainable_variables, trainable),
              (model.non_trainable_variables, non_trainable),
              (model.optimizer.variables, optimizer_values),
              (model.metrics_variables, metric_values)]
    logs, new = _run(groups, step, data)
    return logs, tuple(new)


def test_step(model, step, args):
    state, data = args
    trainable, non_trainable, metric_values = state
    groups = [(model.trainable_variables, trainable),
              (model.non_trainable_variables, non_trainable),
              (model.metrics_variables, metric_values)]
    logs, new = _run(groups, step, data)
    return logs, tuple(new)


no_grad = contextlib.nullcontext


def replicas():
    return 1


def model_scope(model):
    return contextlib.nullcontext()


def all_gather(values):
    return values
