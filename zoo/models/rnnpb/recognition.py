"""Recognition mode of the RNNPB: the PB of new sequences by Adadelta, weights frozen.

The one-step-ahead error of each sequence (eq. 2) is back-propagated to its PB alone and
the PB follows Adadelta (eqs. 8-10 of seed `000_*`). All sequences move at once: the
summed error's gradient with respect to one row is that row's own gradient.

Speed is the point here, so the updates are compiled with XLA. Windows up to
`UNROLL_MAX` frames run a whole chunk of updates in one call with the time loop
unrolled (measured 0.24 ms an update on a 30-frame window, against about 1 ms for a call
per update: Python's dispatch costs 0.2-0.3 ms a call). Longer sequences run one compiled
update per call, the time loop a `while_loop` (XLA cannot differentiate a `while_loop`
nested in another). That is TensorFlow's speed path; on JAX and PyTorch `portable_updates`
runs a chunk of updates as `ops.fori_loop` over the model's time loop (`lax.scan` on JAX,
which differentiates inside another loop; eager on PyTorch). `run_updates` is the one
entry point: `recognize` calls it on whole sequences and `PBStream` on its sliding window.
"""

import keras
import numpy as np
from keras import ops

from zoo import backend
from zoo.models.rnnpb.optimizers import adadelta, check_adadelta
from zoo.validation import check_positive

#: Longest sequence whose recognition update is compiled as straight-line code.
UNROLL_MAX = 128

_INT32 = {}


def _int32(value):
    """A cached int32 scalar tensor: creating one per call costs as much as a small update."""
    if value not in _INT32:
        _INT32[value] = ops.convert_to_tensor(value, "int32")
    return _INT32[value]


def adadelta_step(model, z, mask, pb, msg, msd, rho, epsilon, rate, unroll=False):
    """One Adadelta update of `pb` on `(z, mask)`; returns the new state and the errors."""

    def total(pb):
        error = model.sequence_errors(z, mask, pb, unroll=unroll)
        return ops.sum(error), error  # each PB follows its own sequence's error

    _, error, (grad,), _ = backend.value_and_grad(total, [pb])
    pb, msg, msd = adadelta(pb, msg, msd, grad, rho, epsilon, rate)
    return pb, msg, msd, error


def portable_updates(model, z, mask, pb, msg, msd, rho, epsilon, rate, count, size):
    """`count <= size` updates in `keras.ops`: `(pb, msg, msd, errors (size, batch))`."""

    def body(i, carry):
        pb, msg, msd, errors = carry
        pb, msg, msd, error = adadelta_step(model, z, mask, pb, msg, msd, rho, epsilon, rate)
        errors = ops.slice_update(errors, (i, 0), ops.expand_dims(error, 0))
        return pb, msg, msd, errors

    errors = ops.zeros((size, ops.shape(z)[0]), dtype=z.dtype)
    return ops.fori_loop(0, count, body, (pb, msg, msd, errors))


def _adadelta_steps(model, z, mask, pb, msg, msd, rho, epsilon, rate, count, size):
    """`count <= size` updates in one compiled call, the window unrolled."""
    import tensorflow as tf

    errors = tf.TensorArray(z.dtype, size=size)

    def body(i, pb, msg, msd, errors):
        pb, msg, msd, error = adadelta_step(model, z, mask, pb, msg, msd, rho, epsilon,
                                            rate, unroll=True)
        return i + 1, pb, msg, msd, errors.write(i, error)

    _, pb, msg, msd, errors = tf.while_loop(
        lambda i, *_: i < count, body, (tf.constant(0), pb, msg, msd, errors),
        maximum_iterations=size,
    )
    return pb, msg, msd, errors.stack()


def run_updates(model, z, mask, state, settings, count, size):
    """Runs `count` Adadelta updates; returns `(state, errors (count, batch))`.

    Args:
        model: a built RNNPB.
        z, mask: `(batch, time, features)` features and `(batch, time)` mask, tensors.
        state: `[pb, mean_square_grad, mean_square_delta]`, tensors `(batch, pb_dim)`.
        settings: `[rho, epsilon, learning_rate]` as float32 tensors.
        count: updates to run, at most `size`.
        size: updates per compiled call (one compilation per size).
    """
    if not backend.fast_loops():
        fn = model.compiled_function(("updates", size), lambda: backend.function(
            model, lambda *args: portable_updates(model, *args, size=size)))
        *state, errors = fn(z, mask, *state, *settings, _int32(count))
        return list(state), ops.convert_to_numpy(errors)[:count]
    if z.shape[1] - 1 <= UNROLL_MAX:
        fn = model.compiled_function(("updates", size), lambda: backend.function(
            model, lambda *args: _adadelta_steps(model, *args, size=size)))
        *state, errors = fn(z, mask, *state, *settings, _int32(count))
        return state, ops.convert_to_numpy(errors)[:count]
    fn = model.compiled_function("update", lambda: backend.function(
        model, lambda *args: adadelta_step(model, *args)))
    errors = []
    for _ in range(count):
        *state, error = fn(z, mask, *state, *settings)
        errors.append(error)
    return state, np.stack([ops.convert_to_numpy(e) for e in errors])


def spread_pbs(table, count):
    """`count` starting PBs: the table mean, then table rows far from those chosen."""
    chosen = [table.mean(axis=0)]
    for _ in range(count - 1):
        distance = np.min([np.linalg.norm(table - c, axis=1) for c in chosen], axis=0)
        chosen.append(table[distance.argmax()])
    return np.stack(chosen)


def recognize(model, sequences, steps=300, rho=0.9, epsilon=1e-4, learning_rate=1.0,
              initial_pb=None, starts=1, verbose="auto", chunk=25):
    """`RNNPB.recognize`: see there for the arguments. Returns `(pb, errors)`."""
    check_positive(steps=steps, chunk=chunk, starts=starts)
    check_adadelta(rho, epsilon, learning_rate)
    z, mask = model.features_of(sequences)
    n = len(z)
    pb = model.initial_pb(n) if initial_pb is None else np.asarray(
        model.check_pb(np.asarray(initial_pb, "float32"), n), "float32")
    if starts > 1:
        origins = spread_pbs(model.pb_table.numpy(), starts)
        pb = np.concatenate([pb] + [np.repeat(o[None], n, axis=0) for o in origins[1:]])
        z, mask = np.tile(z, (starts, 1, 1)), np.tile(mask, (starts, 1))
    progress = keras.utils.Progbar(steps, unit_name="update") if verbose not in (0, False) else None
    settings = [ops.convert_to_tensor(v, "float32") for v in (rho, epsilon, learning_rate)]
    state = [ops.convert_to_tensor(v) for v in (pb, np.zeros_like(pb), np.zeros_like(pb))]
    z, mask = ops.convert_to_tensor(z), ops.convert_to_tensor(mask)
    trace = []
    done = 0
    while done < steps:
        count = min(chunk, steps - done)
        state, errors = run_updates(model, z, mask, state, settings, count, chunk)
        trace.append(errors)
        done += count
        if progress is not None:
            progress.update(done, [("error", float(np.mean(trace[-1][-1])))])
    pb, trace = ops.convert_to_numpy(state[0]), np.concatenate(trace, axis=0)
    if starts > 1:
        final = trace[-1].reshape(starts, n)
        best = final.argmin(axis=0)
        pb = pb.reshape(starts, n, -1)[best, np.arange(n)]
        trace = trace.reshape(len(trace), starts, n)[:, best, np.arange(n)]
    return pb, trace
