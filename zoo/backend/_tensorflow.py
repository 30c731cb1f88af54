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
