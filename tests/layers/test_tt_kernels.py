"""Tensor-train input and recurrent matrices inside the existing cells (`kernel_format="tt"`):
a NumPy reference of the TT format, every cell against its dense twin holding the matrices
built from the cores (forward and gradients), parameter counts against the formula, files
and bad settings."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.layers import TTMatrix
from zoo.layers.tt_matrix import factorize, tt_parameter_count

LAYERS = [zoo.layers.Elman, zoo.layers.GRU, zoo.layers.PeepholeLSTM, zoo.layers.Jordan,
          zoo.layers.Bilinear, zoo.layers.GatedBilinear]


def np_tt_matrix(cores, row_factors, col_factors):
    """W[i, j] as the product of the cores' slices, index by index (the format's definition)."""
    rows, cols = int(np.prod(row_factors)), int(np.prod(col_factors))
    w = np.zeros((rows, cols))
    for i, j in itertools.product(range(rows), range(cols)):
        ii = np.unravel_index(i, row_factors)
        jj = np.unravel_index(j, col_factors)
        prod = np.eye(1)
        for core, a, b in zip(cores, ii, jj):
            prod = prod @ core[:, a, b, :]
        w[i, j] = prod[0, 0]
    return w


@pytest.mark.parametrize("n,cores", [(96, 3), (13, 3), (384, 3), (12, 2), (1, 3), (64, 4)])
def test_factorize_is_exact_and_balanced(n, cores):
    factors = factorize(n, cores)
    assert len(factors) == cores and int(np.prod(factors)) == n
    assert factors == sorted(factors, reverse=True)
    if n == 64:
        assert factors == [4, 4, 2, 2]
    if n == 96:
        assert factors == [6, 4, 4]


@pytest.mark.parametrize("rows,cols,rank,cores", [(24, 12, 3, 3), (13, 8, 2, 2), (16, 30, 1, 4)])
def test_tt_matrix_matches_numpy_definition(rows, cols, rank, cores):
    w = TTMatrix(rows, cols, rank=rank, cores=cores, seed=0)
    w.build()
    rng = np.random.default_rng(0)
    for v in w.weights:
        v.assign(rng.normal(size=v.shape).astype("float32"))
    reference = np_tt_matrix([v.numpy().astype("float64") for v in w.core_weights],
                             w.row_factors, w.col_factors)
    np.testing.assert_allclose(np.asarray(w.matrix()), reference, rtol=1e-5, atol=1e-5)
    x = rng.normal(size=(5, rows)).astype("float32")
    np.testing.assert_allclose(np.asarray(w.matmul(x)), x @ reference, rtol=1e-4, atol=1e-4)
    assert w.parameter_count() == sum(int(np.prod(v.shape)) for v in w.weights)


def test_parameter_count_formula():
    # 256 x 384 with 3 cores, rank 4: factors (8, 8, 4) x (8, 8, 6)
    assert factorize(256, 3) == [8, 8, 4] and factorize(384, 3) == [8, 8, 6]
    assert tt_parameter_count(256, 384, 4, 3) == 1 * 8 * 8 * 4 + 4 * 8 * 8 * 4 + 4 * 4 * 6 * 1
    assert tt_parameter_count(256, 384, 4, 3) < 256 * 384 / 50


def test_initial_variance_follows_the_gain():
    w = TTMatrix(512, 512, rank=8, cores=3, gain=1.0, seed=3)
    w.build()
    variance = float(np.var(np.asarray(w.matrix()))) * 512
    assert 0.6 < variance < 1.6


@pytest.mark.parametrize("layer_cls", LAYERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("formats", [("tt", "dense"), ("dense", "tt"), ("tt", "tt")])
def test_tt_cell_equals_dense_cell_built_from_its_cores(layer_cls, formats):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 5, 12)).astype("float32")
    pb = rng.normal(size=(3, 2)).astype("float32")
    tt = layer_cls(8, return_sequences=True, pb_dim=2, kernel_format=formats[0],
                   recurrent_kernel_format=formats[1], tt_rank=3, tt_cores=2)
    tt(x, pb=pb)
    for v in tt.weights:
        v.assign(rng.normal(scale=0.3, size=v.shape).astype("float32"))
    dense = layer_cls(8, return_sequences=True, pb_dim=2)
    dense(x, pb=pb)
    by_name = {v.path.split("/", 1)[1]: v for v in tt.weights}
    for v in dense.weights:
        name = v.path.split("/", 1)[1]
        if name.endswith("cell/kernel"):
            v.assign(np.asarray(tt.cell.kernel))
        elif name.endswith("cell/recurrent_kernel"):
            v.assign(np.asarray(tt.cell.recurrent_kernel))
        else:
            v.assign(by_name[name].numpy())
    np.testing.assert_allclose(np.asarray(tt(x, pb=pb)), np.asarray(dense(x, pb=pb)),
                               rtol=1e-5, atol=1e-5)
    # Gradients: the cores' gradient is the dense matrix's gradient pulled back through W(cores).
    target = rng.normal(size=(3, 5, 8)).astype("float32")

    def loss(layer):
        return tf.reduce_sum((layer(x, pb=pb, training=True) - target) ** 2)

    with tf.GradientTape() as tape:
        tt_loss = loss(tt)
    tt_grads = tape.gradient(tt_loss, [v.value for v in tt.trainable_weights])
    with tf.GradientTape() as tape:
        dense_loss = loss(dense)
    dense_grads = dict(zip([v.path.split("/", 1)[1] for v in dense.trainable_weights],
                           tape.gradient(dense_loss, [v.value for v in dense.trainable_weights])))
    np.testing.assert_allclose(float(tt_loss), float(dense_loss), rtol=1e-5)
    tt_grad = dict(zip([v.path.split("/", 1)[1] for v in tt.trainable_weights], tt_grads))
    for which, matrix in (("kernel", tt.cell.kernel_tt),
                          ("recurrent_kernel", tt.cell.recurrent_kernel_tt)):
        if matrix is None:
            continue
        cores = [c.value for c in matrix.core_weights]
        with tf.GradientTape() as tape:
            tape.watch(cores)
            w = matrix.matrix()
        upstream = dense_grads[f"{tt.cell.name}/{which}"]
        expected = tape.gradient(w, cores, output_gradients=upstream)
        for core, g in zip(matrix.core_weights, expected):
            name = core.path.split("/", 1)[1]
            np.testing.assert_allclose(np.asarray(tt_grad[name]), np.asarray(g), rtol=1e-4,
                                       atol=1e-4)
    for name, g in tt_grad.items():
        if "kernel/core" not in name:
            np.testing.assert_allclose(np.asarray(g), np.asarray(dense_grads[name]), rtol=1e-4,
                                       atol=1e-4)


def test_parameters_saved_and_reported(tmp_path):
    model = zoo.get("gru_classifier", input_dim=64, classes=5, units=32,
                    cell_options={"kernel_format": "tt", "tt_rank": 4})
    x = np.random.default_rng(0).normal(size=(2, 7, 64)).astype("float32")
    y = np.asarray(model(x))
    rows = zoo.layers.tensor_product.tensor_summary(model)
    kernel_rows = [r for r in rows if r["format"] == "tt-matrix"]
    assert kernel_rows and all(r["parameters"] < r["full_tensor_parameters"] for r in kernel_rows)
    assert kernel_rows[0]["parameters"] == tt_parameter_count(64, 96, 4, 3)
    path = tmp_path / "tt.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(x)), y, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("bad", [{"kernel_format": "cp"}, {"recurrent_kernel_format": None},
                                 {"tt_rank": 0}, {"tt_cores": 1}, {"tt_rank": 2.5}])
def test_bad_settings_are_refused(bad):
    key = next(iter(bad))
    with pytest.raises(ValueError, match=key):
        zoo.layers.GRU(8, **bad)


@pytest.mark.parametrize("rows,cols", [(0, 4), (4, -1), (2.5, 4), (True, 4)])
def test_tt_matrix_refuses_bad_shapes(rows, cols):
    with pytest.raises(ValueError, match="rows|cols"):
        TTMatrix(rows, cols)
