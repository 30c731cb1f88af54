"""`RecurrentLayer`: `keras.layers.RNN` over a zoo cell, with the zoo's loop and PB input.

The layer forms the cell's bias once per sequence (bias plus `pb @ pb_kernel`), draws one
dropout mask per sequence, and runs the cell's `step` with `zoo.layers.loop.scan`,
compiled with XLA for inference. See `zoo.layers.recurrent` for the cell side and the
measurements behind the loop's design.
"""

import functools
import inspect

import keras
from keras import ops

from zoo import backend
from zoo.layers import loop, signatures


class RecurrentLayer(keras.layers.RNN):
    """`keras.layers.RNN` over a zoo cell with a faster loop and a PB input.

    The base of `Elman`, `Jordan`, `GRU`, `PeepholeLSTM`, `Bilinear` and `GatedBilinear`.
    A subclass names its cell class, `cell_class = GRUCell`, and nothing more: it then takes
    the cell's arguments and the ones below but `cell`, all listed in its signature and in
    its docstring's `Args:` (written at its `{Args}` line, or appended), followed by the
    cell's `Example:` where the layer has none (`zoo.layers.signatures`).

    Args:
        cell: a built or unbuilt zoo `RecurrentCell`.
        return_sequences: return every step's output (default: the last one).
        return_state: also return the final states.
        go_backwards: read the sequence backwards.
        stateful: carry the states from one batch to the next.
        unroll: unroll the loop in Python (Keras's loop; short sequences only).
        zero_output_for_mask: masked steps output zeros instead of the previous output.
        jit_inference: bool, default True. On TensorFlow, compile the inference loop
            with XLA (measured 1.5-2x faster on CPU; training stays uncompiled, where XLA
            was slower). The loop is compiled once per input shape. JAX compiles the
            whole step anyway and PyTorch runs eagerly, so it changes nothing there.
        **kwargs: `name`, `dtype`, `trainable`, as for any Keras layer.

    Call arguments:
        sequences: `(batch, time, features)`.
        pb: `(batch, pb_dim)` parametric bias, constant over time; required when the
            layer has `pb_dim > 0`, refused otherwise.
        initial_state: optional list of state tensors.
        mask: optional `(batch, time)` boolean mask.
        training: bool, enables dropout.

    Example:

    ```python
    @keras.saving.register_keras_serializable(package="mine")
    class Minimal(RecurrentLayer):
        '''A layer over `MinimalCell`.

        {Args}
        '''

        cell_class = MinimalCell

    layer = Minimal(32, return_sequences=True)   # MinimalCell(32), then the loop
    ```
    """

    #: The cell class a subclass runs; its arguments become the layer's.
    cell_class = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if vars(cls).get("cell_class") is not None and "__init__" not in vars(cls):
            _take_the_cells_arguments(cls)

    def __init__(self, cell, jit_inference=True, **kwargs):
        super().__init__(cell, **kwargs)
        self.jit_inference = bool(jit_inference)
        self._jit_loop = None

    @property
    def units(self):
        return self.cell.units

    @property
    def pb_dim(self):
        return self.cell.pb_dim

    def _check_rank(self, shape):
        if len(shape) != 3:
            raise ValueError(
                f"{type(self).__name__} expects inputs of shape (batch, time, features); "
                f"received shape {tuple(shape)}."
            )

    def build(self, sequences_shape, initial_state_shape=None):
        self._check_rank(sequences_shape)
        # The cell reads PB as extra input features; the layer takes it as `pb=`.
        cell_shape = (*sequences_shape[:-1], sequences_shape[-1] + self.cell.pb_dim)
        super().build(cell_shape, initial_state_shape)

    def call(self, sequences, initial_state=None, mask=None, training=False, pb=None):
        self._check_rank(sequences.shape)
        if pb is None and self.cell.pb_dim:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' has pb_dim={self.cell.pb_dim}: "
                f"pass `pb` of shape (batch, {self.cell.pb_dim})."
            )
        if pb is not None:
            if not self.cell.pb_dim:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}' has pb_dim=0 and takes no `pb`; "
                    "build it with pb_dim=k to use parametric bias."
                )
            if len(pb.shape) != 2 or pb.shape[-1] != self.cell.pb_dim:
                raise ValueError(
                    f"`pb` must have shape (batch, {self.cell.pb_dim}); "
                    f"received shape {tuple(pb.shape)}."
                )
            pb = ops.cast(pb, sequences.dtype)
            tiled = ops.repeat(ops.expand_dims(pb, 1), ops.shape(sequences)[1], axis=1)
            sequences = ops.concatenate([sequences, tiled], axis=-1)
        self.cell.check_features(sequences.shape[-1])
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if self.unroll:
            return super().inner_loop(sequences, initial_state, mask, training)
        cell = self.cell
        initial_state = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        x, pb = sequences, None
        if cell.pb_dim:
            x, pb = sequences[..., : cell.input_dim], sequences[:, 0, cell.input_dim :]
        bias = cell.input_bias(pb)
        if bias is not None and backend.fast_loops():
            import tensorflow as tf

            bias = tf.identity(bias)  # a tensor: tf.function cannot take a Keras variable
        input_mask, recurrent_mask = cell.dropout_masks(ops.shape(sequences)[0], sequences.dtype, training)
        if input_mask is not None:
            x = x * input_mask[:, None, :]
        if mask is not None:
            mask = ops.cast(mask, "bool")
        loop = self._loop
        if (self.jit_inference and backend.fast_loops() and not training
                and recurrent_mask is None):
            if self._jit_loop is None:
                import tensorflow as tf

                # One compiled loop per layer, traced once per input signature (shapes
                # relaxed after the first: XLA still compiles each concrete shape). A
                # partial, not the bound method: tf.function counts traces per Python
                # function, so every layer built would count as a retrace of one function.
                self._jit_loop = tf.function(functools.partial(self._loop), jit_compile=True,
                                             autograph=False, reduce_retracing=True)
            loop = self._jit_loop
        return loop(x, initial_state, bias, mask, recurrent_mask)

    def _loop(self, x, states, bias, mask, recurrent_mask):
        return loop.scan(self.cell, x, states, bias, mask, recurrent_mask,
                         go_backwards=self.go_backwards,
                         zero_output_for_mask=self.zero_output_for_mask,
                         return_sequences=self.return_sequences)

    def get_config(self):
        config = {**self.cell.get_config(), "jit_inference": self.jit_inference}
        for key in ("name", "trainable", "dtype"):
            config.pop(key, None)
        base_config = super().get_config()
        del base_config["cell"]
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _take_the_cells_arguments(cls):
    """Gives `cls` an `__init__(units, **cell and layer arguments)` that builds
    `cls.cell_class` from its arguments and runs it, with the full signature and Args."""
    cell_class = cls.cell_class
    cell_parameters = signatures.parameters(cell_class)
    cell_names = frozenset(parameter.name for parameter in cell_parameters)
    layer_parameters = [*list(inspect.signature(keras.layers.RNN.__init__).parameters.values())[2:-1],
                        inspect.signature(RecurrentLayer.__init__).parameters["jit_inference"]]

    def __init__(self, units, **kwargs):
        own = {name: kwargs.pop(name) for name in [name for name in kwargs if name in cell_names]}
        cell = cell_class(units, **own, dtype=kwargs.get("dtype"),
                          name=cell_class.__name__.lower())
        RecurrentLayer.__init__(self, cell, **kwargs)

    full = signatures.signature([*cell_parameters, *layer_parameters])
    __init__.__signature__ = full.replace(parameters=[
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        *full.parameters.values()])
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__module__ = cls.__module__
    cls.__init__ = __init__
    sources = [base.__doc__ for base in cell_class.__mro__ if base is not keras.layers.Layer
               and issubclass(base, keras.layers.Layer)] + [RecurrentLayer.__doc__]
    arguments = signatures.arguments_section(
        [parameter.name for parameter in full.parameters.values()][:-1], sources,
        tail=("**kwargs",))
    call = ["Call arguments:", *signatures.sections(RecurrentLayer.__doc__)["Call arguments"]]
    doc = signatures.replace_section(cls.__doc__, "Args", [*arguments, "", *call])
    if not signatures.example(doc):  # one example per file, in the cell's docstring
        doc = "\n".join([doc, "", *signatures.example(cell_class.__doc__)])
    cls.__doc__ = doc
