"""Streaming step functions: one frame (plus state) in, the outputs (plus new state) out.

A causal model's output at frame `t` depends on frames `<= t` only, so it can run on live
input: keep a state, feed each new frame, read the output. `StepFunction` builds that
step from the model's own layers and weights, layer by layer along the model's chain:

- per-frame layers (Dense, Embedding, Normalization, Dropout, Activation, LayerNorm,
  BatchNorm, a kernel-1 Conv1D) run on the frame as they do on a sequence, with a time
  axis of length 1; Masking passes the frame through (a stream has no padding);
- a recurrent layer (any zoo cell, Keras's LSTM, GRU, SimpleRNN) runs its cell once; its
  state is the cell's state. A layer that returns only its last output (a classifier)
  gives the output after the frames seen so far;
- a causal dilated Conv1D keeps the last `(kernel - 1) * dilation` frames of its input
  (the input history of fast WaveNet generation, Paine et al. 2016) and computes its
  output for the new frame from them and the frame.

Anything else (a bidirectional or backwards layer, a non-causal convolution, pooling,
transposed convolution) makes the model non-causal for streaming, and building the step is
refused with an error naming the layer.
"""

import keras
from keras import ops

from zoo.layers.recurrent import RecurrentLayer

PER_FRAME = (keras.layers.Dense, keras.layers.Embedding, keras.layers.Normalization,
             keras.layers.Dropout, keras.layers.Activation, keras.layers.LayerNormalization,
             keras.layers.BatchNormalization, keras.layers.ReLU, keras.layers.Softmax)
KERAS_RNN = (keras.layers.LSTM, keras.layers.GRU, keras.layers.SimpleRNN)


class NotCausalError(ValueError):
    """The model (or one of its layers) looks at future frames: it cannot stream."""


def _chain(model):
    """The model's layers in order, checked to form a single chain."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not layers:
        raise NotCausalError(f"{model.name} has no layers to stream through.")
    names = {layer.name for layer in model.layers}
    for previous, layer in zip(layers, layers[1:]):
        nodes = getattr(layer, "_inbound_nodes", [])
        # Only layers count: a mask's helper operations are not part of the chain.
        parents = {t._keras_history[0].name for node in nodes for t in node.input_tensors
                   if t._keras_history[0].name in names}
        if parents and parents != {previous.name}:
            raise NotCausalError(f"{model.name} is not a single chain of layers (layer "
                                 f"'{layer.name}' reads {sorted(parents)}): only a chain of "
                                 "causal layers can stream.")
    return layers


def _conv_kind(layer):
    kernel = layer.kernel_size[0]
    if layer.strides[0] != 1 or layer.groups != 1:
        raise NotCausalError(f"Conv1D '{layer.name}' has strides or groups; it cannot stream.")
    if kernel == 1:
        return "frame"
    if layer.padding != "causal":
        raise NotCausalError(
            f"Conv1D '{layer.name}' uses padding='{layer.padding}' with kernel {kernel}: it "
            "reads future frames. Build the model causal (e.g. emotion_dilated with "
            "causal=True) to stream it.")
    return "conv"


class StepFunction:
    """`step(frame, states) -> (output, new_states)` for a causal chain model.

    Args:
        model: a built Keras model whose layers form one chain (all zoo sequence models but
            the non-causal ones).

    Attributes:
        state_shapes: the shape of each state tensor without the batch axis.

    Example:

    ```python
    step = StepFunction(model)
    states = step.initial_states(batch_size=1)
    for frame in sequence:                       # frame (1, features)
        y, states = step(frame, states)
    ```
    """

    def __init__(self, model):
        self.model = model
        self.plan = []
        self.state_shapes = []
        for layer in _chain(model):
            kind = self._kind(layer)
            sizes = self._state_sizes(layer, kind)
            self.plan.append((layer, kind, len(self.state_shapes), len(sizes)))
            self.state_shapes += sizes

    @staticmethod
    def _kind(layer):
        if isinstance(layer, keras.layers.Masking):
            return "identity"
        if isinstance(layer, keras.layers.Conv1D) and not isinstance(
                layer, keras.layers.Conv1DTranspose):
            return _conv_kind(layer)
        if isinstance(layer, (RecurrentLayer, *KERAS_RNN)):
            if layer.go_backwards:
                raise NotCausalError(f"Recurrent layer '{layer.name}' reads backwards.")
            if getattr(layer.cell, "pb_dim", 0):
                raise NotCausalError(f"Recurrent layer '{layer.name}' takes parametric bias; "
                                     "export its model's generation network instead.")
            return "recurrent"
        if isinstance(layer, PER_FRAME):
            return "frame"
        raise NotCausalError(
            f"Layer '{layer.name}' ({type(layer).__name__}) has no streaming step: the model "
            f"is not causal frame by frame.")

    @staticmethod
    def _state_sizes(layer, kind):
        if kind == "recurrent":
            sizes = layer.cell.state_size
            sizes = list(sizes) if isinstance(sizes, (list, tuple)) else [sizes]
            return [(int(s),) for s in sizes]
        if kind == "conv":
            history = (layer.kernel_size[0] - 1) * layer.dilation_rate[0]
            return [(history, int(layer.kernel.shape[1]))]
        return []

    def initial_states(self, batch_size=1):
        """Zero states: what the model starts a sequence with."""
        return [ops.zeros((batch_size, *shape), dtype="float32") for shape in self.state_shapes]

    def __call__(self, frame, states):
        """One frame `(batch, *features)` -> the output for it `(batch, *outputs)` (without
        a time axis), and the new states."""
        x = ops.expand_dims(frame, 1)                    # a time axis of length 1
        timed = True
        new_states = list(states)
        for layer, kind, first, count in self.plan:
            if kind == "identity":
                continue
            if kind == "frame":
                x = layer(x, training=False)
            elif kind == "recurrent":
                inputs = x[:, 0] if len(x.shape) == 3 else x
                output, cell_states = layer.cell(inputs, list(states[first:first + count]),
                                                 training=False)
                cell_states = cell_states if isinstance(cell_states, (list, tuple)) else [cell_states]
                new_states[first:first + count] = list(cell_states)
                x = ops.expand_dims(output, 1) if layer.return_sequences else output
                timed = timed and layer.return_sequences
            else:
                x, new_states[first] = self._conv_step(layer, x, states[first])
        return (x[:, 0] if timed else x), new_states

    @staticmethod
    def _conv_step(layer, x, history):
        dilation = layer.dilation_rate[0]
        window = ops.concatenate([ops.cast(history, x.dtype), x], axis=1)  # (b, hist + 1, c)
        taps = window[:, ::dilation]                                       # (b, kernel, c)
        y = ops.einsum("bkc,kco->bo", taps, layer.kernel)
        if layer.use_bias:
            y = y + layer.bias
        y = layer.activation(y)
        return ops.expand_dims(y, 1), window[:, 1:]


def stream(model, sequence, states=None):
    """Runs `model` frame by frame over `sequence` `(batch, time, ...)` with its step
    function; returns the per-frame outputs stacked `(batch, time, ...)` and the states.
    The whole-sequence output is what a streaming deployment would have produced."""
    step = StepFunction(model)
    sequence = ops.convert_to_tensor(sequence)
    states = step.initial_states(ops.shape(sequence)[0]) if states is None else states
    outputs = []
    for t in range(sequence.shape[1]):
        y, states = step(sequence[:, t], states)
        outputs.append(y)
    return ops.stack(outputs, axis=1), states
