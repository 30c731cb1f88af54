"""Assertions that take tensors of any Keras backend (a PyTorch tensor that requires
grad, a JAX array) as well as NumPy arrays; for the tests marked `portable`."""

import numpy as np
from keras import ops


def numpy(value):
    """`value` as NumPy, lists and tuples element by element."""
    if isinstance(value, (list, tuple)):
        return type(value)(numpy(v) for v in value)
    if isinstance(value, np.ndarray) or np.isscalar(value):
        return np.asarray(value)
    if hasattr(value, "value") and hasattr(value, "assign"):  # a Keras variable
        value = value.value
    return ops.convert_to_numpy(value)


def assert_close(actual, desired, **kwargs):
    np.testing.assert_allclose(numpy(actual), numpy(desired), **kwargs)


def assert_equal(actual, desired, **kwargs):
    np.testing.assert_array_equal(numpy(actual), numpy(desired), **kwargs)
