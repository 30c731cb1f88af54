"""Live recognition of the RNNPB, the paper's Algorithm 2 (Zhong & Yang).

`PBStream` keeps the last `window` frames; every `push` runs `updates` Adadelta updates of
the PB on them, starting from the previous PB and Adadelta state, so the PB tracks the
behaviour as it changes. `recognize_stream` runs one over a recorded stream.
"""

import numpy as np
from keras import ops

from zoo.data.sequences import as_sequence_list
from zoo.models.progress import progbar
from zoo.models.rnnpb import frames as frame_transform
from zoo.models.rnnpb.optimizers import check_adadelta
from zoo.models.rnnpb.pb_updates import updates_for_shapes
from zoo.validation import check_positive


class PBStream:
    """Live PB recognition: `push` a frame, get the current PB.

    Built by `RNNPB.stream(...)`.

    Args:
        model: a trained RNNPB.
        window: frames kept, at least 2.
        updates: Adadelta updates per pushed frame.
        rho, epsilon, learning_rate: Adadelta settings (see `RNNPB.recognize`).
        initial_pb: `(pb_dim,)` start, default the mean of the PB table.

    Attributes:
        pb: the current `(pb_dim,)` PB vector.
        error: the window's error at the last update (NaN before the second frame).

    Example:

    ```python
    stream = model.stream(window=30, updates=5)
    for frame in frames:
        pb = stream.push(frame)
    ```
    """

    def __init__(self, model, window=30, updates=5, rho=0.9, epsilon=1e-4, learning_rate=1.0,
                 initial_pb=None):
        check_positive(window=window, updates=updates)
        check_adadelta(rho, epsilon, learning_rate)
        if window < 2:
            raise ValueError(f"`window` must be at least 2 frames. Received: window={window}")
        self.model = model
        self.window = window
        self.updates = updates
        self.settings = [ops.convert_to_tensor(v, "float32") for v in (rho, epsilon, learning_rate)]
        start = model.initial_pb(1) if initial_pb is None else np.asarray(
            model.check_pb(np.asarray(initial_pb, "float32").reshape(1, -1), 1), "float32")
        self.initial = start
        # A NumPy snapshot of the frame transform: per frame, eager TensorFlow ops would
        # cost more than the update.
        self._transform = dict(mean=model.frame_mean.numpy(), scale=model.frame_scale.numpy(),
                               components=model.components.numpy(),
                               compress=model._transform()["compress"])
        self._updates = None  # the compiled updates, bound to the window's shapes
        self.reset()

    def reset(self):
        """Forgets the frames and restarts from the initial PB."""
        self.buffer = np.zeros((1, self.window, self.model.features), dtype="float32")
        self.mask = np.zeros((1, self.window), dtype="float32")
        self.count = 0
        self.state = [ops.convert_to_tensor(v) for v in (self.initial, np.zeros_like(self.initial),
                                               np.zeros_like(self.initial))]
        self.error = float("nan")
        self._mask = None  # the mask as a tensor once the window is full (it stays so)

    @property
    def pb(self):
        return ops.convert_to_numpy(self.state[0])[0]

    def push(self, frame):
        """Adds one `(channels,)` frame; returns the PB after this frame's updates."""
        frame = np.asarray(frame, dtype="float32").reshape(-1)
        if frame.shape[0] != self.model.channels or not np.isfinite(frame).all():
            raise ValueError(
                f"A stream frame must hold {self.model.channels} finite values. "
                f"Received: {frame}"
            )
        z = frame_transform.to_features(frame, xp=np, **self._transform)
        if self.count < self.window:
            self.buffer[0, self.count] = z
            self.mask[0, self.count] = 1.0
            self.count += 1
        else:
            self.buffer[0, :-1] = self.buffer[0, 1:]
            self.buffer[0, -1] = z
        if self.count >= 2:
            z = ops.convert_to_tensor(self.buffer)
            mask = self._mask
            if mask is None:
                mask = ops.convert_to_tensor(self.mask)
                if self.count == self.window:
                    self._mask = mask
            if self._updates is None:
                self._updates = updates_for_shapes(self.model, z, mask, self.state,
                                                   self.settings, self.updates)
            self.state, errors = self._updates(z, mask, self.state, self.updates)
            self.error = float(errors[-1, 0])
        return self.pb


def recognize_stream(model, frames, window=30, updates=5, verbose="auto", **kwargs):
    """`RNNPB.recognize_stream`: see there. Returns `(pb (time, pb_dim), errors (time,))`."""
    frames = as_sequence_list([frames], model.channels, name="frames")[0]
    stream = PBStream(model, window, updates, **kwargs)
    progress = progbar(len(frames), "frame", verbose)
    pbs, errors = [], []
    for t, frame in enumerate(frames):
        pbs.append(stream.push(frame))
        errors.append(stream.error)
        if progress is not None and (t + 1) % 100 == 0:
            progress.update(t + 1)
    if progress is not None:
        progress.update(len(frames))
    return np.stack(pbs), np.array(errors, dtype="float32")
