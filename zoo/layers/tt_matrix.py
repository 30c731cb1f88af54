"""Tensor-train (TT) matrices: the input and recurrent kernels of a cell, factorised.

A matrix `W` of shape `(M, N)` with `M = m_1 ... m_d` and `N = n_1 ... n_d` is stored as
`d` cores `G_k` of shape `(r_{k-1}, m_k, n_k, r_k)`, `r_0 = r_d = 1`:

```
W[(i_1 .. i_d), (j_1 .. j_d)] = G_1[:, i_1, j_1, :] G_2[:, i_2, j_2, :] ... G_d[:, i_d, j_d, :]
```

with row and column indices split row-major (Oseledets 2011; Novikov et al. 2015 for
dense layers; Yang, Krompass & Tresp 2017 for the input matrices of GRU and LSTM cells on
high-dimensional inputs). It stores `sum_k r_{k-1} m_k n_k r_k` numbers instead of `M N`.

`x @ W` is computed core by core, without building `W`; `matrix()` builds `W` (cells use
it for the small recurrent matrix, which XLA hoists out of the inference loop).

Choices, written down because the papers leave them open:

- The factorisation of `M` and `N` into `d` factors is the most balanced one (prime
  factors dealt largest first to the smallest factor), so `M` and `N` need not be powers
  of anything; a prime `M` gives one factor `M` and the rest ones (a valid, less
  compressed train).
- Initialisation: each core is normal with the same standard deviation, chosen so that
  every entry of `W` has variance `gain**2 / fan_in` (fan_in = `M`): a product of `d`
  cores summed over `r_1 ... r_{d-1}` paths has variance `prod(r) * s**(2 d)`. With
  `gain = 1` a recurrent matrix of size `(units, k * units)` then has each `(units,
  units)` block of spectral radius about one, like the orthogonal matrix it replaces;
  input kernels use `gain = sqrt(2 M / (M + N))`, the variance of Glorot's initializer.
"""

import hashlib
import math

import keras
from keras import ops

FORMATS = ("dense", "tt")


def factorize(n, cores):
    """`cores` ints whose product is `n`, as balanced as possible, largest first."""
    factors, p, rest = [], 2, n
    while p * p <= rest:
        while rest % p == 0:
            factors.append(p)
            rest //= p
        p += 1
    if rest > 1:
        factors.append(rest)
    bins = [1] * cores
    for f in sorted(factors, reverse=True):
        bins[bins.index(min(bins))] *= f
    return sorted(bins, reverse=True)


def check_tt(kernel_format, recurrent_kernel_format, tt_rank, tt_cores):
    for name, value in (("kernel_format", kernel_format),
                        ("recurrent_kernel_format", recurrent_kernel_format)):
        if value not in FORMATS:
            raise ValueError(f"`{name}` must be one of {', '.join(FORMATS)}. "
                             f"Received: {name}={value!r}")
    for name, value, low in (("tt_rank", tt_rank, 1), ("tt_cores", tt_cores, 2)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"`{name}` must be an int >= {low}. Received: {name}={value!r}")


def tt_parameter_count(rows, cols, rank, cores):
    """Numbers stored by a TT matrix `(rows, cols)` with the given rank and core count."""
    ranks = [1] + [rank] * (cores - 1) + [1]
    return sum(ranks[k] * m * n * ranks[k + 1]
               for k, (m, n) in enumerate(zip(factorize(rows, cores), factorize(cols, cores))))


def stream_seed(seed, name):
    """The seed of weight `name` of a layer seeded with `seed` (None stays None).

    One seed for every weight would draw the same numbers for each: the CP factors, the
    tensor-train cores and the TT-matrix cores of equal sizes would start equal, and a
    bilinear tensor exactly symmetric in its input and state indices. Each weight gets a
    stream of its own, derived from the seed and its name, the same on every run.
    """
    if seed is None:
        return None
    digest = hashlib.blake2s(f"{seed}/{name}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "little") % 2**31


@keras.saving.register_keras_serializable(package="zoo")
class TTMatrix(keras.layers.Layer):
    """A `(rows, cols)` matrix stored as a tensor train; a part of a recurrent cell.

    Args:
        rows, cols: the matrix's shape.
        rank: the TT rank between cores (int >= 1, default 4).
        cores: number of cores `d` (default 3).
        gain: entries of the matrix have variance `gain**2 / rows` at initialisation.
        regularizer: optional regularizer applied to every core.
        seed: initialisation seed.

    Example:

    ```python
    w = TTMatrix(256, 384, rank=4)
    w.build()
    y = w.matmul(x)            # x (batch, 256) -> (batch, 384), what x @ w.matrix() gives
    ```
    """

    def __init__(self, rows, cols, rank=4, cores=3, gain=1.0, regularizer=None, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        check_tt("tt", "tt", rank, cores)
        for name, value in (("rows", rows), ("cols", cols)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{name}` must be an int >= 1. Received: {name}={value!r}")
        self.rows, self.cols, self.rank, self.cores = int(rows), int(cols), rank, cores
        self.gain = float(gain)
        self.regularizer = keras.regularizers.get(regularizer)
        self.seed = seed
        self.row_factors = factorize(self.rows, cores)
        self.col_factors = factorize(self.cols, cores)
        self.ranks = [1] + [rank] * (cores - 1) + [1]

    def build(self, input_shape=None):
        paths = self.rank ** (self.cores - 1)
        variance = self.gain**2 / self.rows
        std = (variance / paths) ** (1.0 / (2 * self.cores))
        self.core_weights = [
            self.add_weight(shape=(self.ranks[k], m, n, self.ranks[k + 1]), name=f"core_{k + 1}",
                            initializer=keras.initializers.RandomNormal(
                                stddev=std, seed=stream_seed(self.seed, f"core_{k + 1}")),
                            regularizer=self.regularizer)
            for k, (m, n) in enumerate(zip(self.row_factors, self.col_factors))
        ]
        self.built = True

    def matmul(self, x):
        """`x @ W` for `x` `(batch, rows)`, contracting one core at a time."""
        batch = ops.shape(x)[0]
        rest = self.rows // self.row_factors[0]
        cur = ops.reshape(x, (batch, self.row_factors[0], rest, 1, 1))
        done = 1
        for k, core in enumerate(self.core_weights):
            cur = ops.einsum("bmrpq,qmns->brpns", cur, core)   # (batch, rest, done, n_k, r_k)
            done *= self.col_factors[k]
            if k + 1 < self.cores:
                m_next = self.row_factors[k + 1]
                rest //= m_next
                cur = ops.reshape(cur, (batch, m_next, rest, done, self.ranks[k + 1]))
        return ops.reshape(cur, (batch, self.cols))

    def matrix(self):
        """`W` `(rows, cols)` built from the cores."""
        first = self.core_weights[0]
        w = ops.reshape(first, first.shape[1:])                    # (m_1, n_1, r_1)
        for core in self.core_weights[1:]:
            i, j = w.shape[0], w.shape[1]
            w = ops.einsum("ijq,qmns->imjns", w, core)
            w = ops.reshape(w, (i * core.shape[1], j * core.shape[2], core.shape[3]))
        return ops.reshape(w, (self.rows, self.cols))

    def parameter_count(self):
        return tt_parameter_count(self.rows, self.cols, self.rank, self.cores)

    def get_config(self):
        return {**super().get_config(), "rows": self.rows, "cols": self.cols,
                "rank": self.rank, "cores": self.cores, "gain": self.gain,
                "regularizer": keras.regularizers.serialize(self.regularizer),
                "seed": self.seed}


def glorot_gain(rows, cols):
    """The gain giving `W` the variance of Glorot's initializer, `2 / (rows + cols)`."""
    return math.sqrt(2.0 * rows / (rows + cols))
