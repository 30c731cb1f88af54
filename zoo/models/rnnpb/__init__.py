"""Recurrent network with parametric bias (RNNPB): learning, recognition and generation.

An RNNPB (Tani & Ito 2003; Zhong & Yang) is a recurrent net trained to
predict the next frame of a sequence, with a few extra input units, the parametric bias
(PB), that hold one constant vector per sequence. The PB vectors are learnt with the
weights; similar sequences end up with nearby PB vectors, so the same network

- learns a set of sequences and a PB table (`fit`, learning mode, paper eqs. 2-7),
- recognises a new sequence by inferring its PB with the weights frozen (`recognize`,
  eqs. 8-10; `recognize_stream` and `PBStream` for a live stream, Algorithm 2),
- generates a sequence from a PB in closed loop (`generate`, eq. 11).

Choices where the paper is silent or does not carry over, and why:

- Frames are standardised per channel with the training data's statistics, robustly by
  default (median, interquartile range; optionally reduced by PCA, as the paper did), and
  the loss is eq. 2 averaged over a sequence's frames and channels instead of summed. Thresholds and learning rates then do not depend
  on sequence length or units. The paper's rates (2e-6 and 1e-6) belong to its summed
  loss and raw joint angles; our defaults were tuned on BasicMotions and the toy tests.
- Each sequence's PB gets the gradient of that sequence's own loss, not of the batch mean,
  so how fast a PB moves does not depend on the batch size.
- Eqs. 6-7 divide by the root of the accumulated squared gradient twice, which reads as a
  typesetting slip; we implement them as Adagrad on the PB with its own rate `gamma`
  (`pb_learning_rate`), written out in `optimizers.pb_adagrad`.
- Recognition starts every PB at the mean of the training PB table (the centre of the
  learnt space) and runs Adadelta (eqs. 8-10, lambda 0.9) on all sequences at once; a
  stream warm-starts each frame's PB, and the Adadelta averages, from the previous frame.
  `recognize(..., starts=k)` also starts from k - 1 spread-out rows of the table and keeps
  the PB with the lowest error: on BasicMotions one start found 0.875 of the test
  sequences' classes, eight found 0.9 (seed 0; `benchmarks/rnnpb_motion.py`).
- Options the paper does not have, for real sensor data: `compress` (asinh of the frames,
  when behaviours differ in amplitude by orders of magnitude; chosen from the data by
  default) and `fit(window=...)` (learn on random windows, so the PB describes any stretch
  of its sequence).
- Defaults for new data (issue 18) differ from Table III where measurement said so: 16 PB
  units instead of 2 and 20% input dropout (2 PB units without dropout did not separate
  the classes of JapaneseVowels or the spoken digits even on the training table), epochs
  until the error converges, recognition starts and steps from the table size and from
  convergence. `benchmarks/rnnpb_datasets.py` measures them against 1-NN, DTW and a GRU.
- Recognition of sequences longer than 128 frames back-propagates by chunks of 32 frames
  (`pb_updates.chunked_errors_and_grad`): exact, compiled once per padded length.
- The readout is linear: frames are standardised, so a squashing output would clip them.

Where each part lives: `model.py` (this class: the network, the frame transform's
weights, the inputs), `frames.py` (the frame transform, shared with the stream),
`learning.py` (`fit`), `recognition.py` (`recognize` and the stream methods),
`generation.py`, `pb_updates.py` (the compiled Adadelta updates of the PB), `stream.py`
(`PBStream`), `optimizers.py` (the PB rules) and `pb_space.py`, `reports.py` (reading the
PB space). The time loops over the cell are `zoo.layers.loop`'s; recognition and
generation compile them with XLA because their speed is the point.
"""

from zoo.models.rnnpb import pb_space, reports
from zoo.models.rnnpb.model import RNNPB, rnnpb
from zoo.models.rnnpb.stream import PBStream

__all__ = ["RNNPB", "PBStream", "rnnpb", "pb_space", "reports"]
