"""Joining a multi-process JAX run: settings from arguments or the environment, the
rendezvous, `jax.distributed` and one seed for every process."""

import os

from zoo import backend
from zoo.distribute.rendezvous import DistributedError, Stopped, address, rendezvous

ENV = {"coordinator": ("ZOO_COORDINATOR", "JAX_COORDINATOR_ADDRESS"),
       "num_processes": ("ZOO_NUM_PROCESSES", "JAX_NUM_PROCESSES"),
       "process_id": ("ZOO_PROCESS_ID", "JAX_PROCESS_ID")}


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
