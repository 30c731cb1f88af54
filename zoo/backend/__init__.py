"""zoo on TensorFlow, JAX and PyTorch: the few things `keras.ops` does not say.

Every zoo layer, loss, metric and model is written in `keras.ops`, so it runs on the
Keras backend chosen at import (`KERAS_BACKEND`). Three needs fall outside `keras.ops`,
and each goes through this module rather than through backend tests spread over the
models:

- `value_and_grad`: the gradient of a function with respect to chosen tensors (the RNNPB's
  parametric bias) and, optionally, variables, outside Keras's `fit`
  (`tf.GradientTape`, `jax.value_and_grad`, `torch.autograd.grad`);
- `function`: a compiled function that reads a model's variables when called, not when
  traced (`tf.function` with XLA, `jax.jit` over the variables' values, plain eager
  PyTorch);
- `train_step` / `test_step`: one custom training step written once, statefully, and run
  as Keras's trainer of each backend calls it (JAX's trainer is stateless:
  `train_step(state, data)` returns the new state);
- `replicas` / `all_gather`: what a custom step needs under `tf.distribute`, where each
  replica sees its own part of the batch (JAX's `keras.distribution` compiles one global
  program, so there both are trivial).

The TensorFlow-only speed paths (the XLA `while_loop` in `zoo.layers.loop`) are chosen by
`fast_loops()`; everything else runs the portable path, which is also the reference that
tests hold the fast path to. `require` names the backend a TensorFlow-only feature needs.
"""

from zoo.backend.dispatch import (
    BackendError,
    all_gather,
    fast_loops,
    float64_available,
    function,
    model_scope,
    name,
    no_grad,
    replicas,
    require,
    test_step,
    train_step,
    value_and_grad,
)

__all__ = ["BackendError", "name", "fast_loops", "float64_available", "require",
           "value_and_grad", "function", "train_step", "test_step", "no_grad", "replicas",
           "model_scope", "all_gather"]
