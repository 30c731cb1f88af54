"""`zoo.backend` on TensorFlow."""

import contextlib

import tensorflow as tf


def float64_available():
    return True


def value_and_grad(fn, tensors, variables, model):
    tensors = [tf.convert_to_tensor(t) for t in tensors]
    with tf.GradientTape() as tape:
        for tensor in tensors:
            tape.watch(tensor)
        value, aux = fn(*tensors)
    grads = tape.gradient(value, tensors + variables)
    return value, aux, grads[: len(tensors)], grads[len(tensors):]


def function(model, fn, jit):
    if jit:
        return tf.function(fn, jit_compile=True, autograph=False)
    return tf.function(fn, reduce_retracing=True)


def train_step(model, step, args):
    (data,) = args
    return step(data)


test_step = train_step


no_grad = contextlib.nullcontext


def _replica_context():
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context


def replicas():
    context = _replica_context()
    return 1 if context is None else context.num_replicas_in_sync


def model_scope(model):
    return model.distribute_strategy.scope()


def all_gather(values):
    context = _replica_context()
    if context is None:
        return values
    return [context.all_gather(v, axis=0) for v in values]
