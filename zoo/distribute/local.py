"""Data-parallel training over the devices one process sees (`tf.distribute.MirroredStrategy`
on TensorFlow, `keras.distribution.DataParallel` on JAX)."""

import contextlib

from zoo import backend
from zoo.distribute.rendezvous import DistributedError

_STRATEGIES = {}


def split_cpu(count):
    """Splits the CPU into `count` devices, for trying multi-device training on one CPU.

    TensorFlow: `count` logical CPU devices (call before TensorFlow runs anything). JAX:
    needs `XLA_FLAGS=--xla_force_host_platform_device_count=N` in the environment before
    JAX starts, which this checks.
    """
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise DistributedError(f"split_cpu needs a positive int. Received: {count!r}")
    if backend.name() == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * count)
        except RuntimeError:
            if len(tf.config.list_logical_devices("CPU")) != count:
                raise DistributedError(
                    "split_cpu must run before TensorFlow initialises its devices (before "
                    "the first model or tensor).") from None
    elif backend.name() == "jax":
        import jax

        have = len(jax.devices("cpu"))
        if have < count:
            raise DistributedError(
                f"JAX sees {have} CPU device(s); start Python with XLA_FLAGS="
                f"--xla_force_host_platform_device_count={count} to get {count}.")
    else:
        _unsupported("several devices")


def _unsupported(what):
    raise backend.BackendError(
        f"{what}: zoo distributes on the tensorflow (tf.distribute) and jax "
        f"(keras.distribution) Keras backends; this process runs on {backend.name()!r}.")


def available():
    """The devices `devices("all")` would use: accelerators if any, else CPU devices (all
    processes' devices on JAX after `initialize`)."""
    if backend.name() == "tensorflow":
        import tensorflow as tf

        found = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return [d.name for d in found]
    if backend.name() == "jax":
        import jax

        return list(jax.devices())
    _unsupported("several devices")


def pick(count):
    """The devices `devices(count)` uses.

    Raises:
        DistributedError: `count` is not "all" or a positive int, or exceeds the devices.
    """
    found = available()
    if count == "all":
        return found
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise DistributedError(f"devices must be 'all' or a positive int. Received: {count!r}")
    if count > len(found):
        hint = (" (split one CPU with zoo.distribute.split_cpu to try several)"
                if len(found) == 1 else "")
        raise DistributedError(
            f"{count} devices asked for; this process sees {len(found)}{hint}.")
    return found[:count]


@contextlib.contextmanager
def devices(count="all"):
    """Build, compile and fit inside this block to train data-parallel over `count` devices.

    Args:
        count: "all" or a positive int.

    Yields:
        The `tf.distribute.MirroredStrategy` (TensorFlow) or `keras.distribution.DataParallel`
        (JAX) in force.

    Raises:
        DistributedError: more devices than this process sees.
        zoo.backend.BackendError: on PyTorch.
    """
    if backend.name() == "tensorflow":
        import tensorflow as tf

        chosen = tuple(pick(count))
        # One strategy per device set and process: strategies created afresh for each
        # model reuse collective instance keys, and their all-reduces then collide.
        if chosen not in _STRATEGIES:
            _STRATEGIES[chosen] = tf.distribute.MirroredStrategy(list(chosen))
        strategy = _STRATEGIES[chosen]
        with strategy.scope():
            yield strategy
    elif backend.name() == "jax":
        import keras

        distribution = keras.distribution.DataParallel(devices=pick(count),
                                                       auto_shard_dataset=False)
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(distribution)
        try:
            yield distribution
        finally:
            keras.distribution.set_distribution(previous)
    else:
        _unsupported("zoo.distribute.devices")
