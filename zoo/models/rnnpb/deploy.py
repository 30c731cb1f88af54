"""What an RNNPB export runs (`zoo.export` calls `RNNPB.export_endpoints`).

- `serve`: `frames` `(batch, steps, channels)` and `pb` `(batch, pb_dim)` in, the
  teacher-forced next-frame predictions `output` out (what `model((frames, pb))` gives);
- `generate`: the generation network of Zhong & Yang (eq. 11): a start `frame` and `pb`
  in, `steps` frames generated in closed loop out (what `model.generate` gives), the loop
  unrolled so that every format takes it with builtin ops;
- `step`: one `frame`, `pb` and the cell state `state_0` in, the prediction of the next
  frame and `next_state_0` out: the network on live input, or one closed-loop step when
  its output is fed back.
"""

from zoo.export.endpoints import ExportError, STEP_ABOUT, describe


class Deployment:
    """Mixin of `RNNPB`: the export endpoints, and no Keras default signature (an RNNPB
    takes `(frames, pb)`, which Keras's one-input default cannot trace)."""

    def export_endpoints(self, batch, steps, streaming):
        """What `zoo.export.export` writes for an RNNPB: `serve`, `generate`, `step`."""
        return export_endpoints(self, batch, steps, streaming)

    @property
    def _default_save_signature(self):
        return None


def export_endpoints(model, batch, steps, streaming):
    """`(endpoints, descriptions)` of an RNNPB; see the module."""
    import tensorflow as tf

    model._require_built("export")
    if steps is None:
        raise ExportError("An RNNPB export generates a fixed number of frames: pass steps=N "
                          "(--steps N).")
    channels, pb_dim = model.channels, model.pb_dim
    cell = model.rnn.cell
    pb = tf.TensorSpec((batch, pb_dim), tf.float32, name="pb")
    frame = tf.TensorSpec((batch, channels), tf.float32, name="frame")

    def read(z, states, bias):
        output, states = cell.step(z, states, bias)
        return model.readout(output), states

    def serve(frames, pb):
        return {"output": model((frames, pb), training=False)}

    def generate(frame, pb):
        bias = cell.input_bias(pb)
        states = cell.get_initial_state(tf.shape(frame)[0])
        y, states = read(model.to_features(frame[:, None])[:, 0], states, bias)
        outputs = [y]
        for _ in range(steps - 1):
            y, states = read(y, states, bias)
            outputs.append(y)
        return {"output": model.to_channels(tf.stack(outputs, axis=1))}

    def step(frame, pb, state_0):
        y, states = read(model.to_features(frame[:, None])[:, 0], [state_0],
                         cell.input_bias(pb))
        return {"output": model.to_channels(y[:, None])[:, 0], "next_state_0": states[0]}

    state = tf.TensorSpec((batch, model.units), tf.float32, name="state_0")
    endpoints = {
        "serve": (serve, [tf.TensorSpec((batch, steps, channels), tf.float32, name="frames"),
                          pb]),
        "generate": (generate, [frame, pb]),
    }
    if streaming is not False:
        endpoints["step"] = (step, [frame, pb, state])
    return endpoints, describe(endpoints, {
        "generate": f"closed loop from one frame and a PB: {steps} generated frames",
        "step": STEP_ABOUT})
