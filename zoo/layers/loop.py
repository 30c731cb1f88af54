"""The time loop over a zoo cell, in the variants the models need.

Every model runs its cells through these functions, so the loop is written once:

- `scan`: the loop over a sequence with Keras's mask rules, what the zoo recurrent layers
  run: on TensorFlow a `tf.while_loop` (compiled with XLA for inference by
  `RecurrentLayer`), elsewhere `keras.ops.scan` (`portable_scan`, the reference);
- `unrolled`: straight-line code over a short, static time axis, for compiled updates
  that are themselves inside a loop (RNNPB recognition: XLA cannot differentiate a time
  `while_loop` nested in another loop);
- `closed_loop`: teacher-forced over a primer, then each prediction fed back as the next
  input (RNNPB generation, eq. 11 of Zhong & Yang);
- `step_stack`: one step through a stack of cells (character-by-character sampling).

A cell here is a zoo `RecurrentCell`: `cell.step(x, states, bias, recurrent_mask)` returns
`(output, new_states)`, with `bias` everything constant over the sequence (see
`RecurrentCell.input_bias`). The TensorFlow loops are TensorFlow code because speed is
their point; `zoo.backend.fast_loops()` switches between them and the portable ones.
"""

from keras import ops

from zoo import backend


def scan(cell, x, states, bias=None, mask=None, recurrent_mask=None, go_backwards=False,
         zero_output_for_mask=False, return_sequences=True):
    """Runs `cell.step` over the time axis of `x` `(batch, time, features)`.

    Masked steps keep the previous states and output the previous output (or zeros with
    `zero_output_for_mask`), as `keras.layers.RNN` does.

    Returns:
        `(last_output, outputs, states)`: `outputs` is `(batch, time, units)`, or the last
        output as `(batch, 1, units)` when `return_sequences` is False.
    """
    run = _tf_scan if backend.fast_loops() else portable_scan
    return run(cell, x, states, bias, mask, recurrent_mask, go_backwards,
               zero_output_for_mask, return_sequences)


def portable_scan(cell, x, states, bias=None, mask=None, recurrent_mask=None,
                  go_backwards=False, zero_output_for_mask=False, return_sequences=True):
    """`scan` in `keras.ops` (`ops.scan`: `lax.scan` on JAX, a loop on PyTorch)."""
    xs = ops.transpose(x, (1, 0, 2))
    if mask is not None:
        xs = (xs, ops.expand_dims(ops.transpose(mask, (1, 0)), -1))
    if go_backwards:
        xs = (ops.flip(xs[0], 0), ops.flip(xs[1], 0)) if mask is not None else ops.flip(xs, 0)
    last = ops.zeros((ops.shape(x)[0], cell.output_size), dtype=x.dtype)
    states = [ops.cast(s, x.dtype) for s in states]

    def body(carry, inputs):
        last, states = carry
        x_t = inputs[0] if mask is not None else inputs
        output, new_states = cell.step(x_t, list(states), bias, recurrent_mask)
        if mask is not None:
            keep = inputs[1]
            fallback = ops.zeros_like(output) if zero_output_for_mask else last
            output = ops.where(keep, output, fallback)
            new_states = [ops.where(keep, n, o) for n, o in zip(new_states, states)]
        carry = (output, list(new_states))
        return carry, _per_step(carry, output)

    (last, states), outputs = ops.scan(body, (last, states), xs)
    outputs = _stacked(outputs)
    sequence = ops.transpose(outputs, (1, 0, 2)) if return_sequences else last[:, None, :]
    return last, sequence, states


# Keras's TensorFlow `ops.scan` stacks per-step values shaped like the carry, so there
# (the portable loop run on TensorFlow, as a reference for the XLA loop) the whole carry
# is stacked and the first entry kept; elsewhere only the output is.
def _per_step(carry, output):
    return carry if backend.name() == "tensorflow" else output


def _stacked(values):
    return values[0] if backend.name() == "tensorflow" else values


def _tf_scan(cell, x, states, bias, mask, recurrent_mask, go_backwards, zero_output_for_mask,
             return_sequences):
    import tensorflow as tf

    xt = tf.transpose(x, [1, 0, 2])
    if mask is not None:
        mt = tf.transpose(mask, [1, 0])[:, :, None]
    if go_backwards:
        xt = tf.reverse(xt, [0])
        if mask is not None:
            mt = tf.reverse(mt, [0])
    steps = tf.shape(xt)[0]
    inputs = tf.TensorArray(xt.dtype, size=steps, element_shape=xt.shape[1:]).unstack(xt)
    masks = None
    if mask is not None:
        masks = tf.TensorArray(tf.bool, size=steps, element_shape=mt.shape[1:]).unstack(mt)
    # The outputs' TensorArray is carried only when written: an unwritten one in the loop
    # is what tf2onnx cannot convert (a time-dynamic ONNX `Loop` of a last-state model).
    outputs = None
    if return_sequences:
        outputs = tf.TensorArray(xt.dtype, size=steps,
                                 element_shape=tf.TensorShape([xt.shape[1], cell.output_size]))
    last = tf.zeros(tf.stack([tf.shape(xt)[1], cell.output_size]), dtype=xt.dtype)
    states = [tf.convert_to_tensor(s, dtype=xt.dtype) for s in states]

    def body(t, last, *carried):
        outputs, states = (carried[0], carried[1:]) if return_sequences else (None, carried)
        output, new_states = cell.step(inputs.read(t), list(states), bias, recurrent_mask)
        if masks is not None:
            keep = masks.read(t)
            fallback = tf.zeros_like(output) if zero_output_for_mask else last
            output = tf.where(keep, output, fallback)
            new_states = [tf.where(keep, n, o) for n, o in zip(new_states, states)]
        written = (outputs.write(t, output),) if return_sequences else ()
        return (t + 1, output, *written, *new_states)

    _, last, *carried = tf.while_loop(
        lambda t, *_: t < steps,
        body,
        (tf.constant(0), last, *((outputs,) if return_sequences else ()), *states),
        maximum_iterations=steps,
        parallel_iterations=32,
    )
    if return_sequences:
        outputs, states = carried[0], carried[1:]
        sequence = tf.transpose(outputs.stack(), [1, 0, 2])
    else:
        states = carried
        sequence = last[:, None, :]
    return last, sequence, list(states)


def unrolled(cell, x, bias=None, states=None):
    """`cell.step` over the static time axis of `x` as straight-line code.

    Returns:
        `(outputs, states)`: outputs `(batch, time, units)`.
    """
    if states is None:
        states = cell.get_initial_state(ops.shape(x)[0])
    outputs = []
    for t in range(x.shape[1]):
        output, states = cell.step(x[:, t], states, bias)
        outputs.append(output)
    return ops.stack(outputs, axis=1), states


def closed_loop(cell, readout, primer, steps, bias=None):
    """Reads `primer` `(batch, time, features)`, then feeds each prediction back `steps` times.

    `readout` maps the cell's output to the next input (a `Dense` layer, say).

    Returns:
        `(batch, steps, features)`: the predictions after the primer.
    """
    if not backend.fast_loops():
        return portable_closed_loop(cell, readout, primer, steps, bias)
    import tensorflow as tf

    states = [tf.convert_to_tensor(s) for s in cell.get_initial_state(tf.shape(primer)[0])]
    primer = tf.transpose(primer, [1, 0, 2])

    def read(x, states):
        output, states = cell.step(x, states, bias)
        return readout(output), states

    def warm(t, y, *states):
        y, states = read(primer[t], list(states))
        return (t + 1, y, *states)

    y0 = tf.zeros_like(primer[0])
    _, y, *states = tf.while_loop(lambda t, *_: t < tf.shape(primer)[0], warm,
                                  (tf.constant(0), y0, *states))
    outputs = tf.TensorArray(primer.dtype, size=steps)

    def free(t, y, outputs, *states):
        outputs = outputs.write(t, y)
        y, states = read(y, list(states))
        return (t + 1, y, outputs, *states)

    _, _, outputs, *_ = tf.while_loop(lambda t, *_: t < steps, free,
                                      (tf.constant(0), y, outputs, *states))
    return tf.transpose(outputs.stack(), [1, 0, 2])


def portable_closed_loop(cell, readout, primer, steps, bias=None):
    """`closed_loop` in `keras.ops`."""
    states = list(cell.get_initial_state(ops.shape(primer)[0]))

    def read(x, states):
        output, states = cell.step(x, list(states), bias)
        return readout(output), list(states)

    def warm(carry, x):
        carry = read(x, carry[1])
        return carry, _per_step(carry, carry[0])

    y0 = ops.zeros_like(primer[:, 0])
    (y, states), _ = ops.scan(warm, (y0, states), ops.transpose(primer, (1, 0, 2)))

    def free(carry, _):
        y, states = carry
        new = read(y, states)
        return new, _per_step(carry, y)

    _, outputs = ops.scan(free, (y, states), None, length=steps)
    return ops.transpose(_stacked(outputs), (1, 0, 2))


def step_stack(cells, x, states):
    """One time step through stacked Keras cells; `states` holds one list per cell.

    Returns:
        `(output, new_states)`.
    """
    new_states = []
    for cell, state in zip(cells, states):
        x, state = cell(x, state)
        new_states.append(list(state) if isinstance(state, (list, tuple)) else [state])
    return x, new_states
