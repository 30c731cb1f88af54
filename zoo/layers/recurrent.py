"""What every zoo recurrent cell shares: weights layout, parametric bias, dropout, the loop.

A zoo cell computes one step with `step(x, states, bias, recurrent_mask)`, where `bias`
holds everything that is constant over a sequence: the bias `b` plus the parametric-bias
term `pb @ pb_kernel`. `cell.call` (what `keras.layers.RNN` runs) splits the PB off its
input, forms that bias and calls `step`. `RecurrentLayer`, the base of every zoo
recurrent layer, forms the bias once per sequence, draws one dropout mask per
sequence, and runs `step` with `zoo.layers.loop.scan`, compiled with XLA for inference.

Projecting all time steps' inputs in one product before the loop was measured and
rejected: on CPU the gates-wide `(time, batch, 4 * units)` buffer made the loop slower
(about 220 against 170 us a step at batch 32, 128 units), so each step multiplies its own
narrow input, as Keras does. A hand-written backward pass for the peephole cell
(`tf.custom_gradient`, one recurrent product per step, weight gradients as three large
products after the loop) was also measured and rejected: its training step ran at 0.68x
Keras's LSTM against about 1.0x for TensorFlow's own differentiation of this loop.

Parametric bias (PB, Tani & Ito 2003; Zhong & Yang) is the same for every cell:
a cell built with `pb_dim=k` reads the last `k` features of its input as the PB vector
and adds `pb @ pb_kernel` to the pre-activations of every gate, where `pb_kernel` is its
own weight (the `V_h PB` term of the RNNPB paper). PB is constant over a sequence, so it
costs nothing per step: it is folded into the bias. `RecurrentLayer.call(x, pb=...)` takes
one `(batch, pb_dim)` vector per sequence.
Passing PB through the inputs, rather than as a `constants` argument (which Keras 3 no
longer has), lets any zoo cell take PB inside a plain `keras.layers.RNN` too.

The loop is TensorFlow code (`tf.while_loop`, XLA) because speed is its point; the cell
maths is `keras.ops`.
"""

import keras
from keras import ops

from zoo.layers import signatures
from zoo.layers.recurrent_layer import RecurrentLayer
from zoo.layers.tt_matrix import TTMatrix, check_tt, glorot_gain, stream_seed
from zoo.validation import check_positive

__all__ = ["RecurrentCell", "RecurrentLayer"]


class RecurrentCell(keras.layers.Layer):
    """Base of the zoo cells. Subclasses set `gates` and implement `step`.

    A subclass's `__init__` names only its own arguments and passes the rest on with
    `**kwargs`; its docstring's `Args:` describes only those, and is completed with the
    ones below when the class is made (`zoo.layers.signatures`), so `help()` shows all.

    Args:
        units: positive int, size of the hidden state.
        pb_dim: int, default 0: parametric-bias units. A cell reads them from the end of
            its input; a zoo layer takes them as `pb=`.
        activation: default `"tanh"`.
        use_bias: default True.
        kernel_initializer: default `"glorot_uniform"`.
        recurrent_initializer: default `"orthogonal"`; `"identity"` gives an IRNN.
        bias_initializer: default `"zeros"`.
        pb_initializer: initializer of `pb_kernel`, default `"glorot_uniform"`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: default None.
        dropout: float in [0, 1), fraction of the input units dropped (same mask at
            every step of a sequence when run by a zoo layer).
        recurrent_dropout: float in [0, 1), fraction of the recurrent state dropped.
        seed: int or None, seed of the dropout masks.
        kernel_format, recurrent_kernel_format: `"dense"` (default) or `"tt"`, the input
            and recurrent matrices stored as tensor trains (`zoo.layers.tt_matrix`; their
            initializers are then ignored).
        tt_rank: TT rank of the factorised matrices (default 4).
        tt_cores: number of TT cores (default 3).
        **kwargs: `name`, `dtype`, `trainable`, as for any Keras layer.

    Example:

    ```python
    class MinimalCell(RecurrentCell):      # h_t = tanh(x W + h U + b)
        def step(self, x, states, bias, recurrent_mask=None):
            h = self.activation(self.project(x, bias) + ops.matmul(states[0], self.recurrent_kernel))
            return h, [h]
    ```
    """

    gates = 1

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "Args" in signatures.sections(cls.__doc__) or "{Args}" in (cls.__doc__ or ""):
            sources = [base.__doc__ for base in cls.__mro__ if issubclass(base, RecurrentCell)]
            names = [parameter.name for parameter in signatures.parameters(cls)]
            cls.__doc__ = signatures.replace_section(
                cls.__doc__, "Args",
                signatures.arguments_section(names, sources, tail=("**kwargs",)))

    def __init__(
        self,
        units,
        pb_dim=0,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        pb_initializer="glorot_uniform",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        kernel_format="dense",
        recurrent_kernel_format="dense",
        tt_rank=4,
        tt_cores=3,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive(units=units)
        check_tt(kernel_format, recurrent_kernel_format, tt_rank, tt_cores)
        if not isinstance(pb_dim, int) or isinstance(pb_dim, bool) or pb_dim < 0:
            raise ValueError(f"`pb_dim` must be an int >= 0. Received: pb_dim={pb_dim!r}")
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"`{name}` must be in [0, 1). Received: {name}={rate}")
        self.units = units
        self.pb_dim = pb_dim
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.pb_initializer = keras.initializers.get(pb_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        self.kernel_format, self.recurrent_kernel_format = kernel_format, recurrent_kernel_format
        self.tt_rank, self.tt_cores = tt_rank, tt_cores
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.state_size = [units]
        self.output_size = units

    # -- weights ---------------------------------------------------------------------
    @property
    def recurrent_dim(self):
        """Size of the state fed back through `recurrent_kernel`: the first state's (`h`;
        a Jordan cell's output `y`)."""
        return self.state_size[0]

    def build(self, input_shape):
        total = input_shape[-1]
        if total is None:
            raise ValueError("The feature axis of a recurrent cell's input must be known.")
        self.input_dim = total - self.pb_dim
        if self.input_dim <= 0:
            raise ValueError(
                f"{type(self).__name__} with pb_dim={self.pb_dim} needs more than "
                f"{self.pb_dim} input features (inputs, then the PB vector). "
                f"Received: {total} features."
            )
        width = self.gates * self.units
        self.kernel_tt = self.recurrent_kernel_tt = None
        if self.kernel_format == "tt":
            self.kernel_tt = self._tt_matrix(self.input_dim, width, "kernel",
                                             glorot_gain(self.input_dim, width),
                                             self.kernel_regularizer)
        else:
            self._kernel = self.add_weight(shape=(self.input_dim, width), name="kernel",
                                           initializer=self.kernel_initializer,
                                           regularizer=self.kernel_regularizer)
        if self.recurrent_kernel_format == "tt":
            self.recurrent_kernel_tt = self._tt_matrix(self.recurrent_dim, width,
                                                       "recurrent_kernel", 1.0,
                                                       self.recurrent_regularizer)
        else:
            self._recurrent_kernel = self.add_weight(
                shape=(self.recurrent_dim, width), name="recurrent_kernel",
                initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer)
        self.pb_kernel = None
        if self.pb_dim:
            self.pb_kernel = self.add_weight(
                shape=(self.pb_dim, width), name="pb_kernel", initializer=self.pb_initializer
            )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self.bias_shape(),
                name="bias",
                initializer=self.bias_initializer_for_build(),
                regularizer=self.bias_regularizer,
            )
        self.build_cell()
        self.built = True

    def _tt_matrix(self, rows, cols, name, gain, regularizer):
        matrix = TTMatrix(rows, cols, self.tt_rank, self.tt_cores, gain, regularizer,
                          seed=stream_seed(self.seed, name), name=name)
        matrix.build()
        return matrix

    @property
    def kernel(self):
        """`(input_dim, gates * units)`; built from its cores when `kernel_format="tt"`."""
        return self._kernel if self.kernel_tt is None else self.kernel_tt.matrix()

    @property
    def recurrent_kernel(self):
        """`(recurrent_dim, gates * units)`, likewise."""
        if self.recurrent_kernel_tt is None:
            return self._recurrent_kernel
        return self.recurrent_kernel_tt.matrix()

    def bias_shape(self):
        return (self.gates * self.units,)

    def bias_initializer_for_build(self):
        return self.bias_initializer

    def bias_of_inputs(self):
        """The part of `bias` that `step` adds to `x @ kernel` (all of it by default)."""
        return self.bias

    def input_bias(self, pb=None):
        """What `step` adds to `x @ kernel`: `bias + pb @ pb_kernel`, or None."""
        bias = self.bias_of_inputs()
        if pb is not None:
            term = ops.matmul(pb, self.pb_kernel)
            bias = term if bias is None else term + bias
        return bias

    def build_cell(self):
        """Creates the cell's own weights (peepholes, output layer); none by default."""

    # -- maths -----------------------------------------------------------------------
    def check_features(self, size):
        expected = self.input_dim + self.pb_dim
        if size is not None and size != expected:
            pb = f" + {self.pb_dim} PB" if self.pb_dim else ""
            raise ValueError(
                f"{type(self).__name__} '{self.name}' was built for {self.input_dim} input "
                f"features{pb}; received {size} features."
            )

    def project(self, x, bias):
        """`x @ kernel + bias`, the input's share of the pre-activations."""
        if self.kernel_tt is not None:
            z = self.kernel_tt.matmul(x)
        else:
            z = ops.matmul(x, self._kernel)
        return z if bias is None else z + bias

    def step(self, x, states, bias, recurrent_mask=None):
        """One step; returns `(output, new_states)`.

        Args:
            x: `(batch, input_dim)` input, dropout already applied.
            states: list of state tensors.
            bias: from `input_bias`, constant over the sequence (may be None).
            recurrent_mask: optional keep-mask for the fed-back state.
        """
        raise NotImplementedError

    def call(self, inputs, states, training=False):
        # Inside a plain keras.layers.RNN the cell cannot keep one mask per sequence
        # (the loop is traced once), so it draws a fresh dropout mask at every step.
        # Zoo layers draw one mask per sequence, as Keras's own layers do.
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        x = inputs[..., : self.input_dim]
        pb = inputs[..., self.input_dim :] if self.pb_dim else None
        input_mask, recurrent_mask = self.dropout_masks(ops.shape(inputs)[0], inputs.dtype, training)
        if input_mask is not None:
            x = x * input_mask
        return self.step(x, states, self.input_bias(pb), recurrent_mask)

    def dropout_masks(self, batch_size, dtype, training):
        """Scaled keep-masks `(input_mask, recurrent_mask)`, None where not dropping."""
        input_mask = recurrent_mask = None
        if training and self.dropout > 0:
            input_mask = keras.random.dropout(
                ops.ones((batch_size, self.input_dim), dtype=dtype),
                rate=self.dropout,
                seed=self.seed_generator,
            )
        if training and self.recurrent_dropout > 0:
            recurrent_mask = keras.random.dropout(
                ops.ones((batch_size, self.recurrent_dim), dtype=dtype),
                rate=self.recurrent_dropout,
                seed=self.seed_generator,
            )
        return input_mask, recurrent_mask

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in self.state_size]

    def get_config(self):
        # Every `__init__` argument along the class hierarchy is kept as a same-named
        # attribute, so the config is written from the signature: a subclass that adds
        # an argument (and keeps it) needs no `get_config` of its own.
        config = {parameter.name: _serialized(getattr(self, parameter.name))
                  for parameter in signatures.parameters(type(self))}
        base_config = super().get_config()
        return {**base_config, **config}


def _serialized(value):
    """A kept `__init__` argument as JSON-ready config: initializers, regularizers and
    activations (all callable, hence tested in that order) by Keras's serializers."""
    if isinstance(value, keras.initializers.Initializer):
        return keras.initializers.serialize(value)
    if isinstance(value, keras.regularizers.Regularizer):
        return keras.regularizers.serialize(value)
    if callable(value):
        return keras.activations.serialize(value)
    return value
