"""The bilinear (second-order) product of a tensor recurrent cell, stored full, CP or TT.

A tensor recurrent cell (Mathews' tensor-RNN thesis, chapters 3-4) adds to its pre-activations the
bilinear product of the input and the previous state with a 3-way tensor `W`
`(input_dim, state_dim, units)`:

```
T(x, h)_k = sum_ij x_i h_j W[i, j, k]
```

so the recurrent matrix itself depends on the input (`sum_i x_i W[i]`), which is what
lets one network hold a different transition per input symbol (Sutskever et al. 2011).
`W` is stored in one of three formats:

- `full`: the tensor itself, `I * S * U` numbers; the reference the others are checked
  against.
- `cp`: rank-`r` CANDECOMP/PARAFAC, `W[i,j,k] = sum_r B[i,r] C[j,r] A[r,k]`, computed as
  `((x B) * (h C)) A`: the multiplicative RNN of Sutskever et al. (2011); `r (I + S + U)`
  numbers.
- `tt`: a tensor train with ranks `(r1, r2)`, `W[i,j,k] = sum_ab G1[i,a] G2[a,j,b]
  G3[b,k]`, computed as `(x G1)` contracted with `h` through `G2`, then `G3`;
  `I r1 + r1 S r2 + r2 U` numbers (Oseledets 2011; Yu et al. 2017 for recurrent nets).

Initialisation (a choice; the thesis leaves it open, and its outline asks whether
multiplicative dynamics mean instability): the factors are drawn so that, for inputs of
unit variance, the input-dependent recurrent matrix `sum_i x_i W[i]` has entries of
variance `scale**2 / state_dim`, i.e. a spectral radius of about `scale` (0.1 by default).
The cell's own orthogonal recurrent matrix then sets the spectrum near one at the start,
and the multiplicative part grows only as far as learning needs it.
"""

import math

import keras
from keras import ops

from zoo.layers.tt_matrix import TTMatrix, stream_seed
from zoo.validation import check_positive_float

FORMATS = ("full", "cp", "tt")


def tt_ranks(rank):
    """`(r1, r2)` from an int or a pair."""
    ranks = (rank, rank) if isinstance(rank, int) and not isinstance(rank, bool) else tuple(rank)
    if len(ranks) != 2 or not all(isinstance(r, int) and not isinstance(r, bool) and r > 0
                                  for r in ranks):
        raise ValueError(f"A tensor-train `rank` must be a positive int or a pair of them. "
                         f"Received: rank={rank!r}")
    return ranks


def parameter_count(tensor_format, input_dim, state_dim, units, rank):
    """Numbers stored for `W` `(input_dim, state_dim, units)` in `tensor_format`."""
    if tensor_format == "full":
        return input_dim * state_dim * units
    if tensor_format == "cp":
        return rank * (input_dim + state_dim + units)
    r1, r2 = tt_ranks(rank)
    return input_dim * r1 + r1 * state_dim * r2 + r2 * units


def check_format(tensor_format, rank):
    if tensor_format not in FORMATS:
        raise ValueError(f"`tensor_format` must be one of {', '.join(FORMATS)}. "
                         f"Received: tensor_format={tensor_format!r}")
    if tensor_format == "tt":
        tt_ranks(rank)
    elif tensor_format == "cp" and (not isinstance(rank, int) or isinstance(rank, bool)
                                    or rank <= 0):
        raise ValueError(f"A CP `rank` must be a positive int. Received: rank={rank!r}")


@keras.saving.register_keras_serializable(package="zoo")
class BilinearProduct(keras.layers.Layer):
    """`T(x, h)_k = sum_ij x_i h_j W[i, j, k]` with `W` stored full, CP or TT.

    A part of the tensor cells (`Bilinear`, `GatedBilinear`); build it with
    `build((input_dim, state_dim))` and call `product(x, h)`.

    Args:
        units: size of the result.
        tensor_format: `"full"`, `"cp"` (default) or `"tt"`.
        rank: CP rank (int, default 16) or tensor-train ranks (int or `(r1, r2)`);
            ignored for `"full"`.
        scale: spectral radius, at initialisation, of the input-dependent recurrent
            matrix for unit-variance inputs (default 0.1).
        seed: initialisation seed.

    Example:

    ```python
    product = BilinearProduct(8, tensor_format="cp", rank=4)
    product.build((3, 8))
    y = product.product(x, h)          # x (batch, 3), h (batch, 8) -> (batch, 8)
    ```
    """

    def __init__(self, units, tensor_format="cp", rank=16, scale=0.1, seed=None, **kwargs):
        super().__init__(**kwargs)
        check_format(tensor_format, rank)
        check_positive_float(tensor_scale=scale)
        self.units = units
        self.tensor_format = tensor_format
        self.rank = list(rank) if isinstance(rank, (list, tuple)) else rank
        self.scale = float(scale)
        self.seed = seed

    def _normal(self, std, name):
        return keras.initializers.RandomNormal(stddev=std, seed=stream_seed(self.seed, name))

    def _factor(self, name, shape, std):
        return self.add_weight(shape=shape, name=name, initializer=self._normal(std, name))

    def build(self, input_shape):
        input_dim, state_dim = (int(d) for d in input_shape)
        self.input_dim, self.state_dim = input_dim, state_dim
        units, scale = self.units, self.scale
        if self.tensor_format == "full":
            self.tensor = self._factor("tensor", (input_dim, state_dim, units),
                                       scale / math.sqrt(input_dim * state_dim))
        elif self.tensor_format == "cp":
            r = self.rank
            self.input_factor = self._factor("input_factor", (input_dim, r),
                                             1 / math.sqrt(input_dim))
            self.state_factor = self._factor("state_factor", (state_dim, r),
                                             1 / math.sqrt(state_dim))
            self.output_factor = self._factor("output_factor", (r, units), scale / math.sqrt(r))
        else:
            r1, r2 = tt_ranks(self.rank)
            self.core_1 = self._factor("core_1", (input_dim, r1), 1 / math.sqrt(input_dim))
            self.core_2 = self._factor("core_2", (r1, state_dim, r2),
                                       1 / math.sqrt(r1 * state_dim))
            self.core_3 = self._factor("core_3", (r2, units), scale / math.sqrt(r2))
        self.built = True

    def product(self, x, h):
        """`(batch, input_dim)` x `(batch, state_dim)` -> `(batch, units)`."""
        if self.tensor_format == "full":
            return ops.einsum("bi,bj,ijk->bk", x, h, self.tensor)
        if self.tensor_format == "cp":
            return ops.matmul(ops.matmul(x, self.input_factor) * ops.matmul(h, self.state_factor),
                              self.output_factor)
        u = ops.matmul(x, self.core_1)                                   # (batch, r1)
        v = ops.einsum("ba,bj,ajc->bc", u, h, self.core_2)               # (batch, r2)
        return ops.matmul(v, self.core_3)

    def full_tensor(self):
        """`W` `(input_dim, state_dim, units)` rebuilt from the stored format."""
        if self.tensor_format == "full":
            return ops.convert_to_tensor(self.tensor)
        if self.tensor_format == "cp":
            return ops.einsum("ir,jr,rk->ijk", self.input_factor, self.state_factor,
                              self.output_factor)
        return ops.einsum("ia,ajb,bk->ijk", self.core_1, self.core_2, self.core_3)

    def parameter_count(self):
        return parameter_count(self.tensor_format, self.input_dim, self.state_dim, self.units,
                               self.rank)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "tensor_format": self.tensor_format,
                "rank": self.rank, "scale": self.scale, "seed": self.seed}


def tensor_summary(model):
    """Each factorised part of `model`, with its parameters against the full tensor's or
    dense matrix's: bilinear products (format `full`, `cp`, `tt`) and TT matrices (format
    `tt-matrix`). An empty list for a model without them (or not built yet)."""
    rows = []
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, BilinearProduct) and layer.built:
            full = parameter_count("full", layer.input_dim, layer.state_dim, layer.units, None)
            rows.append({"layer": layer.path, "format": layer.tensor_format, "rank": layer.rank,
                         "parameters": layer.parameter_count(), "full_tensor_parameters": full})
        elif isinstance(layer, TTMatrix) and layer.built:
            rows.append({"layer": layer.path, "format": "tt-matrix", "rank": layer.rank,
                         "parameters": layer.parameter_count(),
                         "full_tensor_parameters": layer.rows * layer.cols})
    return rows
