"""Recognition mode of the RNNPB: the PB of new sequences by Adadelta, weights frozen.

The one-step-ahead error of each sequence (eq. 2) is back-propagated to its PB alone and
the PB follows Adadelta (eqs. 8-10 of Zhong & Yang). All sequences move at once: the
summed error's gradient with respect to one row is that row's own gradient.

Speed is the point here, so on TensorFlow a whole chunk of updates runs as one XLA call
(Python's dispatch costs 0.2-0.3 ms a call, about what one update of a 30-frame window
costs). How the time loop is differentiated inside that call depends on the length:

- windows up to `UNROLL_MAX` frames: the time loop is unrolled and differentiated as
  straight-line code (XLA cannot differentiate a time `while_loop` nested in the loop
  over updates);
- longer sequences: `chunked_errors_and_grad`, back-propagation through time written out
  by hand at the level of chunks of `CHUNK` frames. A forward `while_loop` keeps the state
  at the start of every chunk; a backward `while_loop` visits the chunks in reverse, runs
  each one again unrolled under a tape from its kept state, and carries the gradient of
  the state back into the chunk before. The gradient is exact (no truncation), the code
  compiled is one chunk whatever the length, and memory grows with the number of chunks,
  not of frames. Lengths are padded up to a multiple of `CHUNK`, so sequences of similar
  length share one compilation.

On JAX and PyTorch `portable_updates` runs a chunk of updates as `ops.fori_loop` over the
model's time loop (`lax.scan` on JAX, which differentiates inside another loop; eager on
PyTorch). `run_updates` is the one entry point: `recognize` calls it on whole sequences
and `PBStream` on its sliding window. The model's methods are in `recognition.py`.
"""

import keras
import numpy as np
from keras import ops

from zoo import backend
from zoo.layers import loop
from zoo.models.progress import progbar
from zoo.models.rnnpb.optimizers import adadelta, check_adadelta
from zoo.validation import check_positive

#: Longest sequence whose recognition update is compiled as straight-line code.
UNROLL_MAX = 128

#: Frames per chunk of the long-sequence path (`chunked_errors_and_grad`).
CHUNK = 32

_INT32 = {}


def _int32(value):
    """A cached int32 scalar tensor: creating one per call costs as much as a small update."""
    if value not in _INT32:
        _INT32[value] = ops.convert_to_tensor(value, "int32")
    return _INT32[value]


def adadelta_step(model, z, mask, pb, msg, msd, rho, epsilon, rate, unroll=False,
                  chunked=False):
    """One Adadelta update of `pb` on `(z, mask)`; returns the new state and the errors.

    `unroll`: the window is differentiated as straight-line code; `chunked`: by
    `chunked_errors_and_grad` (TensorFlow, any length)."""
    if chunked:
        error, grad = chunked_errors_and_grad(model, z, mask, pb)
        pb, msg, msd = adadelta(pb, msg, msd, grad, rho, epsilon, rate)
        return pb, msg, msd, error

    def total(pb):
        error = model.sequence_errors(z, mask, pb, unroll=unroll)
        return ops.sum(error), error  # each PB follows its own sequence's error

    _, error, (grad,), _ = backend.value_and_grad(total, [pb])
    pb, msg, msd = adadelta(pb, msg, msd, grad, rho, epsilon, rate)
    return pb, msg, msd, error


def chunked_errors_and_grad(model, z, mask, pb, chunk=CHUNK):
    """Eq. 2 per sequence and its exact gradient for `pb`, for sequences of any length.

    Back-propagation through time by chunks (see the module's docstring): the forward
    pass keeps the cell's state at the start of every `chunk` frames; the backward pass
    recomputes each chunk unrolled under a tape, from its kept state, in reverse order,
    with the gradient of its final state carried back from the chunk after it. TensorFlow
    only (`tf.while_loop`, `TensorArray`); nothing differentiates through a loop, so the
    whole thing compiles with XLA inside the loop over updates.

    Returns:
        `(errors (batch,), grad (batch, pb_dim))`.
    """
    import tensorflow as tf

    cell, readout = model.rnn.cell, model.readout
    steps = z.shape[1] - 1
    chunks = -(-steps // chunk)
    padding = [[0, 0], [0, chunks * chunk - steps]]
    inputs = tf.pad(z[:, :-1], padding + [[0, 0]])
    targets = tf.pad(z[:, 1:], padding + [[0, 0]])
    weight = tf.pad(mask[:, 1:], padding)
    count = tf.maximum(tf.reduce_sum(weight, axis=1), 1.0)
    batch, features = tf.shape(z)[0], z.shape[2]

    def by_chunk(x, *tail):  # (batch, chunks * chunk, ...) -> (chunks, batch, chunk, ...)
        x = tf.reshape(x, [batch, chunks, chunk, *tail])
        return tf.transpose(x, [1, 0, 2, *range(3, 3 + len(tail))])

    inputs, targets, weight = by_chunk(inputs, features), by_chunk(targets, features), \
        by_chunk(weight)
    with tf.GradientTape() as pb_tape:
        pb_tape.watch(pb)
        bias = cell.input_bias(pb)
    initial = [tf.convert_to_tensor(s) for s in cell.get_initial_state(batch)]
    kept = [tf.TensorArray(s.dtype, size=chunks, element_shape=s.shape).write(0, s)
            for s in initial]

    def forward(k, kept, *states):
        _, states = loop.unrolled(cell, inputs[k], bias, list(states))
        return (k + 1, [a.write(k + 1, s) for a, s in zip(kept, states)], *states)

    _, kept, *_ = tf.while_loop(lambda k, *_: k < chunks - 1, forward,
                                (tf.constant(0), kept, *initial))

    def backward(k, errors, bias_grad, *state_grads):
        k = k - 1
        states = [a.read(k) for a in kept]
        with tf.GradientTape() as tape:
            tape.watch(states)
            tape.watch(bias)
            outputs, final = loop.unrolled(cell, inputs[k], bias, states)
            squared = tf.reduce_mean(tf.square(readout(outputs) - targets[k]), axis=-1)
            error = tf.reduce_sum(squared * weight[k], axis=1) / count
            # The chunk's own error plus what its final state does to the chunks after it.
            carried = tf.add_n([tf.reduce_sum(g * s) for g, s in zip(state_grads, final)])
            total = tf.reduce_sum(error) + carried
        *state_grads, grad = tape.gradient(total, [*states, bias])
        return (k, errors + error, bias_grad + grad, *state_grads)

    _, errors, bias_grad, *_ = tf.while_loop(
        lambda k, *_: k > 0, backward,
        (tf.constant(chunks), tf.zeros_like(count), tf.zeros_like(bias),
         *[tf.zeros_like(s) for s in initial]))
    return errors, pb_tape.gradient(bias, pb, output_gradients=bias_grad)


def portable_updates(model, z, mask, pb, msg, msd, rho, epsilon, rate, count, size):
    """`count <= size` updates in `keras.ops`: `(pb, msg, msd, errors (size, batch))`."""

    def body(i, carry):
        pb, msg, msd, errors = carry
        pb, msg, msd, error = adadelta_step(model, z, mask, pb, msg, msd, rho, epsilon, rate)
        errors = ops.slice_update(errors, (i, 0), ops.expand_dims(error, 0))
        return pb, msg, msd, errors

    errors = ops.zeros((size, ops.shape(z)[0]), dtype=z.dtype)
    return ops.fori_loop(0, count, body, (pb, msg, msd, errors))


def _adadelta_steps(model, z, mask, pb, msg, msd, rho, epsilon, rate, count, size,
                    chunked=False):
    """`count <= size` updates in one compiled call, the window unrolled (or chunked)."""
    import tensorflow as tf

    errors = tf.TensorArray(z.dtype, size=size)

    def body(i, pb, msg, msd, errors):
        pb, msg, msd, error = adadelta_step(model, z, mask, pb, msg, msd, rho, epsilon,
                                            rate, unroll=not chunked, chunked=chunked)
        return i + 1, pb, msg, msd, errors.write(i, error)

    _, pb, msg, msd, errors = tf.while_loop(
        lambda i, *_: i < count, body, (tf.constant(0), pb, msg, msd, errors),
        maximum_iterations=size,
    )
    return pb, msg, msd, errors.stack()


def _compiled_updates(model, z, size):
    """The compiled call of `size` updates on sequences shaped like `z`, built once per
    model (see `run_updates`)."""
    chunked = z.shape[1] - 1 > UNROLL_MAX
    if not backend.fast_loops():
        return model.compiled_function(("updates", size), lambda: backend.function(
            model, lambda *args: portable_updates(model, *args, size=size)))
    return model.compiled_function(("updates", size, chunked), lambda: backend.function(
        model, lambda *args: _adadelta_steps(model, *args, size=size, chunked=chunked)))


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
    fn = _compiled_updates(model, z, size)
    *state, errors = fn(z, mask, *state, *settings, _int32(count))
    return list(state), ops.convert_to_numpy(errors)[:count]


def updates_for_shapes(model, z, mask, state, settings, size):
    """`run_updates` bound to the shapes of these arguments, for a caller that repeats one
    shape many times (`PBStream`): `fn(z, mask, state, count) -> (state, errors)`.

    On TensorFlow it calls the concrete function of these shapes directly, which skips the
    `tf.function`'s dispatch on the arguments' signature: about 0.2 ms of a 0.5 ms call for
    one update of a 30-frame window (benchmarks/rnnpb_recognition.py).
    """
    fn = _compiled_updates(model, z, size)
    if backend.name() == "tensorflow":
        fn = fn.get_concrete_function(z, mask, *state, *settings, _int32(size))

    def updates(z, mask, state, count):
        *state, errors = fn(z, mask, *state, *settings, _int32(count))
        return list(state), ops.convert_to_numpy(errors)[:count]

    return updates


def pad_to_chunks(z, mask):
    """Pads the time axis of sequences longer than `UNROLL_MAX` to `CHUNK * k + 1` frames,
    so that lengths which differ by less than a chunk share one compiled update."""
    steps = z.shape[1] - 1
    if steps <= UNROLL_MAX:
        return z, mask
    extra = -steps % CHUNK
    return (np.pad(z, [(0, 0), (0, extra), (0, 0)]), np.pad(mask, [(0, 0), (0, extra)]))


#: `recognize(steps="auto")`: at least `AUTO_MIN_STEPS` and at most `AUTO_MAX_STEPS`
#: updates, stopping after a chunk of updates that lowered the mean error by less than
#: `AUTO_TOLERANCE` of its value.
AUTO_MIN_STEPS, AUTO_MAX_STEPS, AUTO_TOLERANCE = 100, 1000, 1e-3
#: `recognize(starts="auto")`: one start per `TABLE_ROWS_PER_START` rows of the PB table,
#: plus the table mean, at most `AUTO_MAX_STARTS`.
TABLE_ROWS_PER_START, AUTO_MAX_STARTS = 8, 8


def auto_starts(rows):
    """Starts for a PB table of `rows` sequences: `min(8, 1 + rows // 8)`.

    Every start is a row of the table spread over it (`spread_pbs`), so a larger table,
    which covers more regions of PB space, gets more starts; the cost is linear in the
    starts, hence the cap.
    """
    return int(min(AUTO_MAX_STARTS, 1 + rows // TABLE_ROWS_PER_START))


def spread_pbs(table, count):
    """`count` starting PBs: the table mean, then table rows far from those chosen."""
    chosen = [table.mean(axis=0)]
    for _ in range(count - 1):
        distance = np.min([np.linalg.norm(table - c, axis=1) for c in chosen], axis=0)
        chosen.append(table[distance.argmax()])
    return np.stack(chosen)


def recognize(model, sequences, steps="auto", rho=0.9, epsilon=1e-4, learning_rate=1.0,
              initial_pb=None, starts="auto", verbose="auto", chunk=25):
    """`RNNPB.recognize`: see there for the arguments. Returns `(pb, errors)`."""
    auto_steps = steps == "auto"
    if starts == "auto":
        starts = auto_starts(model.num_sequences)
    check_positive(steps=AUTO_MAX_STEPS if auto_steps else steps, chunk=chunk, starts=starts)
    check_adadelta(rho, epsilon, learning_rate)
    if auto_steps:
        steps = AUTO_MAX_STEPS
    z, mask = pad_to_chunks(*model.features_of(sequences))
    n = len(z)
    pb = model.initial_pb(n) if initial_pb is None else np.asarray(
        model.check_pb(np.asarray(initial_pb, "float32"), n), "float32")
    if starts > 1:
        origins = spread_pbs(model.pb_table.numpy(), starts)
        pb = np.concatenate([pb] + [np.repeat(o[None], n, axis=0) for o in origins[1:]])
        z, mask = np.tile(z, (starts, 1, 1)), np.tile(mask, (starts, 1))
    progress = progbar(steps, "update", verbose)
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
        if auto_steps and done >= AUTO_MIN_STEPS and converged(trace[-1]):
            if progress is not None:  # end the bar where recognition stopped
                progress.target = done
                progress.update(done, [("error", float(np.mean(trace[-1][-1])))], finalize=True)
            break
    pb, trace = ops.convert_to_numpy(state[0]), np.concatenate(trace, axis=0)
    if starts > 1:
        final = trace[-1].reshape(starts, n)
        best = final.argmin(axis=0)
        pb = pb.reshape(starts, n, -1)[best, np.arange(n)]
        trace = trace.reshape(len(trace), starts, n)[:, best, np.arange(n)]
    return pb, trace


def converged(errors):
    """Whether a chunk of updates `(updates, batch)` lowered the mean error by less than
    `AUTO_TOLERANCE` of its value."""
    first, last = float(np.mean(errors[0])), float(np.mean(errors[-1]))
    return first - last < AUTO_TOLERANCE * max(first, 1e-12)
