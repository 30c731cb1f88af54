"""The backend functions of `zoo.backend`, each handing the work to `_tensorflow`, `_jax` or
`_torch` for the Keras backend in use."""

import importlib

import keras


class BackendError(RuntimeError):
    """A feature used on a Keras backend it does not run on."""


def name():
    """The Keras backend in use: `"tensorflow"`, `"jax"` or `"torch"`."""
    return keras.backend.backend()


def _impl():
    backend = name()
    if backend not in ("tensorflow", "jax", "torch"):
        raise BackendError(
            f"zoo runs on the tensorflow, jax and torch Keras backends; this process uses "
            f"{backend!r} (KERAS_BACKEND)."
        )
    return importlib.import_module(f"zoo.backend._{backend}")


def fast_loops():
    """True where zoo's hand-tuned TensorFlow loops (XLA-compiled `while_loop`) run."""
    return name() == "tensorflow"


def float64_available():
    """Whether float64 tensors keep float64 precision (JAX drops to float32 unless
    `jax_enable_x64` is set)."""
    return _impl().float64_available()


def require(feature, backend="tensorflow"):
    """Raises `BackendError` unless the process runs on `backend`.

    Args:
        feature: what the user asked for, as they would name it (`"zoo.export"`).
        backend: the backend it needs.
    """
    if name() != backend:
        raise BackendError(
            f"{feature} needs the {backend} Keras backend; this process runs on "
            f"{name()!r}. Start Python with KERAS_BACKEND={backend} to use it (the "
            "backend is chosen when Keras is first imported)."
        )


def value_and_grad(fn, tensors, variables=(), model=None):
    """Evaluates `fn(*tensors)` and its gradient.

    Args:
        fn: returns `(scalar, aux)`.
        tensors: the tensors to differentiate with respect to.
        variables: Keras variables to differentiate with respect to as well.
        model: the layer or model `fn` reads (JAX: its other variables keep the values
            they hold in the enclosing stateless scope).

    Returns:
        `(scalar, aux, tensor_grads, variable_grads)`.
    """
    return _impl().value_and_grad(fn, list(tensors), list(variables), model)


def function(model, fn, jit=True):
    """`fn` compiled for repeated calls; it reads `model`'s variables at each call.

    TensorFlow: `tf.function` (XLA when `jit`). JAX: `jax.jit`, the variables' values
    passed in at every call so later training is seen. PyTorch: `fn` itself (eager).
    """
    return _impl().function(model, fn, jit)


def train_step(model, step, args):
    """Runs a stateful `step(data) -> logs` as the backend's Keras trainer calls
    `model.train_step(*args)`; returns what the trainer expects."""
    return _impl().train_step(model, step, args)


def test_step(model, step, args):
    """`train_step` for `model.test_step(*args)`."""
    return _impl().test_step(model, step, args)


def no_grad():
    """A context in which variable updates are not recorded for differentiation
    (PyTorch's `torch.no_grad`; nothing elsewhere)."""
    return _impl().no_grad()


def replicas():
    """How many replicas share the step being traced: a `tf.distribute` strategy's
    `num_replicas_in_sync` inside its replica context, else 1.

    A custom step divides its loss by this before gradients are summed across replicas,
    as Keras's own losses do.
    """
    return _impl().replicas()


def model_scope(model):
    """The scope of the `tf.distribute` strategy `model` was constructed under (Keras keeps
    it as `model.distribute_strategy`), for variables the model makes later, at its first
    `fit`: they then live where its weights do even when `fit` runs outside the scope.
    A null context on the other backends."""
    return _impl().model_scope(model)


def all_gather(values):
    """The per-replica tensors `values` concatenated over replicas along axis 0 (each
    replica receives all), under a `tf.distribute` strategy; unchanged elsewhere."""
    return _impl().all_gather(list(values))
