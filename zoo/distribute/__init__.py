"""Training on several devices of one machine, and on several machines.

One machine, several devices::

    with zoo.distribute.devices("all"):          # or devices(2)
        model = zoo.get("emotion_downup", input_dim=160, outputs=2)
        model.compile(optimizer="adam", loss=zoo.losses.CCCLoss())
        model.fit(zoo.data.stream("shards/", split="train", batch_size=8), epochs=30)

On TensorFlow this is `tf.distribute.MirroredStrategy` (build, compile and fit inside it);
on JAX, `keras.distribution.DataParallel`. Each batch is split over the devices and the
gradients summed, so N devices on a global batch of B give the loss, metrics and weights of
one device on the same B (to float tolerance; tested for the emotion regressors with
`CCCLoss`/`CCC`, the recurrent classifiers and the RNNPB).

Several machines go through JAX: `initialize()` joins this process to the others
(`jax.distributed`) and `devices("all")` then spans every process's devices. Each process
reads its own part of the data (`zoo.data.stream(..., workers=zoo.distribute.worker())`).
TensorFlow's multi-worker strategy does not work with Keras 3's `fit` (keras-team/keras
#20585), and zoo does not write a training loop of its own around it.
"""

import contextlib
import os

from zoo import backend
from zoo.distribute import watch
from zoo.distribute.rendezvous import DistributedError, Stopped, address, rendezvous

ENV = {"coordinator": ("ZOO_COORDINATOR", "JAX_COORDINATOR_ADDRESS"),
       "num_processes": ("ZOO_NUM_PROCESSES", "JAX_NUM_PROCESSES"),
       "process_id": ("ZOO_PROCESS_ID", "JAX_PROCESS_ID")}


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


def _setting(key, value, cast=str):
    if value is not None:
        return value
    for name in ENV[key]:
        if os.environ.get(name):
            try:
                return cast(os.environ[name])
            except ValueError:
                raise DistributedError(
                    f"{name}={os.environ[name]!r} is not a valid {key.replace('_', ' ')}."
                ) from None
    raise DistributedError(
        f"no {key.replace('_', ' ')}: pass it, or set {' or '.join(ENV[key])}.")


def settings(coordinator=None, num_processes=None, process_id=None, timeout=60.0):
    """`(coordinator, num_processes, process_id)` of a multi-process run, from the
    arguments or the environment (see `initialize`), checked.

    Raises:
        zoo.backend.BackendError: not on JAX (multi-process runs are JAX's).
        DistributedError: a missing or invalid setting.
    """
    if backend.name() != "jax":
        raise backend.BackendError(
            "multi-process training runs on the jax Keras backend (keras.distribution with "
            "jax.distributed); Keras 3's fit does not support TensorFlow's multi-worker "
            f"strategy. This process runs on {backend.name()!r}: start it with "
            "KERAS_BACKEND=jax.")
    coordinator = _setting("coordinator", coordinator)
    num_processes = _setting("num_processes", num_processes, int)
    process_id = _setting("process_id", process_id, int)
    address(coordinator)
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise DistributedError(f"timeout must be a positive number of seconds. Received: "
                               f"{timeout!r}")
    if num_processes < 1:
        raise DistributedError(f"num_processes must be at least 1. Received: {num_processes}")
    if not 0 <= process_id < num_processes:
        raise DistributedError(
            f"process id {process_id} is not in 0..{num_processes - 1} ({num_processes} "
            "processes).")
    return coordinator, num_processes, process_id


def initialize(coordinator=None, num_processes=None, process_id=None, timeout=60.0,
               refusal=None):
    """Joins this process to a multi-process JAX run (one process per machine, or several
    on one machine for testing).

    Call before any JAX computation. Settings not passed are read from ZOO_COORDINATOR /
    JAX_COORDINATOR_ADDRESS (HOST:PORT of process 0), ZOO_NUM_PROCESSES / JAX_NUM_PROCESSES
    and ZOO_PROCESS_ID / JAX_PROCESS_ID. From then on the processes fail together
    (`zoo.distribute.watch`): call `watch.finish()` when this process is done.

    Args:
        refusal: None when this process is ready to train; else `(message, exit status)`
            of the check that failed: every process then stops, naming this one.

    Raises:
        DistributedError: missing or invalid settings, or peers that do not all arrive
            within `timeout` seconds; `Stopped` when a process refused.
        zoo.backend.BackendError: not on JAX.
    """
    coordinator, num_processes, process_id = settings(coordinator, num_processes, process_id,
                                                      timeout)
    if num_processes == 1:
        if refusal is not None:
            raise Stopped(*refusal)
        return
    import jax

    rendezvous(coordinator, num_processes, process_id, timeout, refusal=refusal)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                               process_id=process_id,
                               initialization_timeout=max(int(timeout), 1))
    _agree_on_a_seed()


def _agree_on_a_seed():
    """Gives every process process 0's Keras seed, so that they all draw the same weights.

    The seed is drawn from NumPy's global generator, which `keras.utils.set_random_seed`
    seeds: a run seeded before `initialize` stays reproducible, an unseeded one gets a fresh
    seed that every process shares.
    """
    import keras
    import numpy as np
    from jax.experimental import multihost_utils

    drawn = np.asarray(np.random.randint(0, 2**31 - 1), dtype="int32")
    keras.utils.set_random_seed(int(multihost_utils.broadcast_one_to_all(drawn)))


def worker():
    """`(process_count, process_index)` of a multi-process JAX run, else None: pass it as
    `zoo.data.stream(..., workers=...)` so each process reads its own part."""
    if backend.name() != "jax":
        return None
    import jax

    return None if jax.process_count() == 1 else (jax.process_count(), jax.process_index())


__all__ = ["DistributedError", "Stopped", "available", "devices", "initialize", "pick",
           "rendezvous", "settings", "split_cpu", "watch", "worker"]
