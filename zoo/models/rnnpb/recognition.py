"""`Recognition`: the recognition-mode methods of `RNNPB` (a mixin of the model).

The updates themselves are in `pb_updates.py`, the live stream in `stream.py`.
"""

import numpy as np
from keras import ops

from zoo.models.rnnpb import pb_space, stream
from zoo.models.rnnpb.optimizers import check_adadelta
from zoo.models.rnnpb.pb_updates import recognize, spread_pbs


class Recognition:
    """Recognition mode of `RNNPB` (a mixin of the model): `recognize`, `classify`,
    `stream`, `recognize_stream`, and where recognition starts."""

    def initial_pb(self, count):
        """Where recognition starts: the mean of the PB table, `(count, pb_dim)`."""
        centre = ops.mean(self.pb_table, axis=0, keepdims=True)
        return np.repeat(ops.convert_to_numpy(centre), count, axis=0)

    def spread_pbs(self, count):
        """`count` starting PBs: the table mean, then table rows far from those chosen."""
        return spread_pbs(self.pb_table.numpy(), count)

    def recognize(self, sequences, steps="auto", rho=0.9, epsilon=1e-4, learning_rate=1.0,
                  initial_pb=None, starts="auto", verbose="auto", chunk=25):
        """Recognition mode: infers one PB vector per sequence with the weights frozen.

        The one-step-ahead error of each sequence is back-propagated to its PB alone and
        the PB follows Adadelta (eqs. 8-10). All sequences are processed at once.

        Args:
            sequences: as in `fit`; lengths may differ. All are padded to the longest
                (padding is masked out), so one call on lengths 20 and 2000 costs what
                two 2000-frame sequences cost: group very different lengths in separate
                calls. Sequences longer than 128 frames are padded to a multiple of 32.
            steps: Adadelta updates, or `"auto"` (default): at least 100 and at most 1000,
                stopping after a `chunk` of updates that lowered the mean error by less
                than 0.1%.
            rho: Adadelta's decay lambda, default 0.9 (Table III).
            epsilon: Adadelta's smoothing term, default 1e-4. It sets the size of the
                first steps (about `sqrt(epsilon)`); Zeiler's 1e-6 starts 10x slower.
            learning_rate: multiplies each Adadelta step, default 1.0 (Zeiler's rule).
            initial_pb: `(n, pb_dim)` start, default the mean of the PB table.
            starts: an int, or `"auto"` (default): `min(8, 1 + rows // 8)` for a PB table
                of `rows` training sequences. With `k > 1`, recognition also starts from
                `k - 1` rows of the PB table spread over it (each the farthest from those
                chosen before) and keeps, per sequence, the PB with the lowest final
                error: the error surface over PB space can have several basins, and a
                larger table covers more of them. The cost is linear in `k`.
            verbose: 0 silent, 1 a progress bar, 2 one line at the end; "auto" (default)
                a bar in a terminal, one line otherwise (`zoo.models.progress`).
            chunk: updates per compiled call (and between progress-bar refreshes).

        Returns:
            `(pb, errors)`: `pb` `(n, pb_dim)` and `errors` `(updates, n)`, the error
            (eq. 2, per frame and channel) of each sequence before each update.
        """
        self._require_built("recognize")
        return recognize(self, sequences, steps, rho, epsilon, learning_rate, initial_pb,
                         starts, verbose, chunk)

    def classify(self, sequences, rule="auto", **recognize_kwargs):
        """Labels of new sequences: `recognize` them, then label each recognised PB by
        the training PB table and its `sequence_labels` (the labels `fit` was given).

        Args:
            sequences: as in `recognize`.
            rule: "mean" (the nearest class mean, the paper's Tables IV-V), "1-NN" (the
                nearest training PB), or "auto" (default): whichever labels the training
                table better (`pb_space.choose_rule`).
            **recognize_kwargs: passed to `recognize` (`steps`, `starts`, `verbose`...).

        Returns:
            `(labels, pb)`: a NumPy array of `n` labels and the `(n, pb_dim)` PBs.
        """
        pb_space.check_rule(rule)  # before any work
        if self.sequence_labels is None:
            raise ValueError("`classify` needs the labels of the training sequences: pass "
                             "`labels=` to `fit`.")
        pb, _ = self.recognize(sequences, **recognize_kwargs)
        labels = pb_space.classify(self.pb_table.numpy(), np.asarray(self.sequence_labels),
                                   pb, rule)
        return labels, pb

    def stream(self, window=30, updates=5, rho=0.9, epsilon=1e-4, learning_rate=1.0,
               initial_pb=None):
        """A `PBStream` for live recognition (Algorithm 2); see `recognize_stream`."""
        self._require_built("stream")
        check_adadelta(rho, epsilon, learning_rate)
        return stream.PBStream(self, window, updates, rho, epsilon, learning_rate, initial_pb)

    def recognize_stream(self, frames, window=30, updates=5, verbose="auto", **kwargs):
        """Algorithm 2 over a recorded stream: one PB per frame from a sliding window.

        For every new frame the window of the last `window` frames is updated `updates`
        times with Adadelta, warm-started from the previous frame's PB and Adadelta state.
        Until the window is full, the frames seen so far are used.

        Args:
            frames: `(time, channels)` stream.
            window: frames per window, default 30 (one second at 30 Hz).
            updates: Adadelta updates per new frame, default 5.
            verbose: 0 silent, 1 a progress bar, 2 one line at the end; "auto" (default)
                a bar in a terminal, one line otherwise (`zoo.models.progress`).
            **kwargs: `rho`, `epsilon`, `learning_rate`, `initial_pb` as in `stream`.

        Returns:
            `(pb, errors)`: `(time, pb_dim)` PB after each frame and `(time,)` the window's
            error at the last update (NaN for the first frame).
        """
        self._require_built("stream")
        return stream.recognize_stream(self, frames, window, updates, verbose, **kwargs)
