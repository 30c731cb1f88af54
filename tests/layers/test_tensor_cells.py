"""The tensor (bilinear) cells of seed 004: NumPy references of their equations, the CP and
tensor-train formats against the full tensor built from their factors (forward and
gradients), parameter counts against their formulas, and every RNN feature."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.layers import Bilinear, BilinearProduct, GatedBilinear
from zoo.layers.tensor_product import parameter_count

B, T, D, U, P = 3, 6, 4, 5, 2


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def np_full_tensor(w, tensor_format):
    """W (D, U, U) from the stored factors, written from the decompositions' definitions."""
    if tensor_format == "full":
        return w["tensor"]
    if tensor_format == "cp":
        B_, C, A = w["input_factor"], w["state_factor"], w["output_factor"]
        return np.einsum("ir,jr,rk->ijk", B_, C, A)
    G1, G2, G3 = w["core_1"], w["core_2"], w["core_3"]
    return np.einsum("ia,ajb,bk->ijk", G1, G2, G3)


def np_bilinear(x, w, tensor_format, pb=None):
    W3 = np_full_tensor(w, tensor_format)
    h = np.zeros((x.shape[0], w["recurrent_kernel"].shape[0]))
    const = w["bias"] + (0 if pb is None else pb @ w["pb_kernel"])
    outs = []
    for t in range(x.shape[1]):
        xt = x[:, t]
        bilinear = np.einsum("bi,bj,ijk->bk", xt, h, W3)
        h = np.tanh(bilinear + xt @ w["kernel"] + h @ w["recurrent_kernel"] + const)
        outs.append(h)
    return np.stack(outs, 1), [h]


def np_gated_bilinear(x, w, tensor_format, pb=None):
    W3 = np_full_tensor(w, tensor_format)
    n = w["recurrent_kernel"].shape[0]
    h = np.zeros((x.shape[0], n))
    const = w["bias"] + (0 if pb is None else pb @ w["pb_kernel"])
    Wz, Wr, Wh = np.split(w["kernel"], 3, axis=1)
    Uz, Ur, Uh = np.split(w["recurrent_kernel"], 3, axis=1)
    bz, br, bh = np.split(const, 3, axis=-1)
    outs = []
    for t in range(x.shape[1]):
        xt = x[:, t]
        z = sigmoid(xt @ Wz + h @ Uz + bz)
        r = sigmoid(xt @ Wr + h @ Ur + br)
        candidate = np.tanh(np.einsum("bi,bj,ijk->bk", xt, r * h, W3) + xt @ Wh + (r * h) @ Uh + bh)
        h = z * h + (1 - z) * candidate
        outs.append(h)
    return np.stack(outs, 1), [h]


LAYERS = {"bilinear": (Bilinear, np_bilinear), "gated_bilinear": (GatedBilinear, np_gated_bilinear)}
FORMATS = {"full": {}, "cp": {"rank": 3}, "tt": {"rank": (2, 3)}}


def randomize(layer, seed=1):
    rng = np.random.default_rng(seed)
    for v in layer.weights:
        v.assign(rng.normal(scale=0.4, size=v.shape).astype("float32"))
    return {v.path.split("/")[-1]: v.numpy().astype("float64") for v in layer.weights}


@pytest.fixture
def x():
    return np.random.default_rng(0).normal(size=(B, T, D)).astype("float32")


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("tensor_format", FORMATS)
@pytest.mark.parametrize("with_pb", [False, True])
@pytest.mark.parametrize("training", [False, True])
def test_matches_numpy_reference(kind, tensor_format, with_pb, training, x):
    make, reference = LAYERS[kind]
    layer = make(U, tensor_format=tensor_format, **FORMATS[tensor_format],
                 return_sequences=True, return_state=True, pb_dim=P if with_pb else 0)
    pb = np.random.default_rng(2).normal(size=(B, P)).astype("float32") if with_pb else None
    kwargs = {"pb": pb} if with_pb else {}
    layer(x, **kwargs)
    weights = randomize(layer)
    got = layer(x, training=training, **kwargs)
    want, states = reference(x.astype("float64"), weights, tensor_format,
                             **({"pb": pb.astype("float64")} if with_pb else {}))
    np.testing.assert_allclose(got[0], want, atol=1e-5)
    np.testing.assert_allclose(got[1], states[0], atol=1e-5)


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("tensor_format", ["cp", "tt"])
def test_decomposed_cell_equals_the_full_cell_built_from_its_factors(kind, tensor_format, x):
    make, _ = LAYERS[kind]
    small = make(U, tensor_format=tensor_format, **FORMATS[tensor_format], return_sequences=True)
    small(x)
    weights = randomize(small)
    full = make(U, tensor_format="full", return_sequences=True)
    full(x)
    shared = {v.path.split("/")[-1]: v for v in small.weights}
    for v in full.weights:
        name = v.path.split("/")[-1]
        v.assign(np_full_tensor(weights, tensor_format) if name == "tensor" else shared[name])
    xs = tf.constant(x)
    grads = []
    for layer in (small, full):
        with tf.GradientTape() as tape:
            tape.watch(xs)
            out = layer(xs, training=True)
            loss = tf.reduce_sum(out ** 2)
        common = [w for w in layer.weights if "tensor_product" not in w.path]
        grads.append((out, tape.gradient(loss, [xs, *common])))
    np.testing.assert_allclose(grads[0][0], grads[1][0], atol=1e-5)
    for g_small, g_full in zip(grads[0][1], grads[1][1]):
        np.testing.assert_allclose(g_small, g_full, atol=1e-5)


@pytest.mark.parametrize("tensor_format", FORMATS)
def test_factor_gradients_follow_the_chain_rule_through_the_full_tensor(tensor_format):
    rng = np.random.default_rng(3)
    xt, h = rng.normal(size=(B, D)).astype("float32"), rng.normal(size=(B, U)).astype("float32")
    product = BilinearProduct(U, tensor_format=tensor_format, **FORMATS[tensor_format])
    product.build((D, U))
    with tf.GradientTape(persistent=True) as tape:
        W3 = product.full_tensor()
        via_factors = tf.reduce_sum(product.product(xt, h) ** 2)
    with tf.GradientTape() as tape_full:
        W_var = tf.Variable(W3)
        via_full = tf.reduce_sum(tf.einsum("bi,bj,ijk->bk", xt, h, W_var) ** 2)
    np.testing.assert_allclose(via_factors, via_full, rtol=1e-5)
    dW = tape_full.gradient(via_full, W_var)
    for factor in product.trainable_weights:
        chained = tape.gradient(W3, factor, output_gradients=dW)
        np.testing.assert_allclose(tape.gradient(via_factors, factor), chained, rtol=1e-4,
                                   atol=1e-5)


@pytest.mark.parametrize("tensor_format, rank, expected", [
    ("full", None, 7 * 11 * 11),
    ("cp", 4, 4 * (7 + 11 + 11)),
    ("tt", (2, 3), 7 * 2 + 2 * 11 * 3 + 3 * 11),
])
def test_parameter_counts_match_the_formulas(tensor_format, rank, expected):
    assert parameter_count(tensor_format, 7, 11, 11, rank) == expected
    layer = Bilinear(11, tensor_format=tensor_format, **({"rank": rank} if rank else {}))
    layer(np.zeros((1, 2, 7), "float32"))
    product = layer.cell.tensor_product
    assert product.parameter_count() == expected
    assert sum(int(np.prod(w.shape)) for w in product.weights) == expected
    elman_part = 7 * 11 + 11 * 11 + 11
    assert layer.count_params() == expected + elman_part


def test_initial_input_dependent_recurrent_matrix_is_small(x):
    """The documented initialisation: spectral radius of sum_i x_i W[i] about `tensor_scale`."""
    radii = []
    for seed in range(5):
        product = BilinearProduct(64, tensor_format="cp", rank=16, scale=0.1, seed=seed)
        product.build((16, 64))
        W3 = np.asarray(product.full_tensor())
        xi = np.random.default_rng(seed).normal(size=16)
        radii.append(np.abs(np.linalg.eigvals(np.einsum("i,ijk->jk", xi, W3))).max())
    assert 0.02 < np.median(radii) < 0.3, radii


@pytest.mark.parametrize("kind", LAYERS)
def test_masking_backwards_bidirectional_and_keras_file(kind, x, tmp_path):
    make, _ = LAYERS[kind]
    inputs = keras.Input((None, D))
    masked = keras.layers.Masking()(inputs)
    y = keras.layers.Bidirectional(make(U, rank=2, return_sequences=True))(masked)
    y = make(U, tensor_format="tt", rank=2, go_backwards=True)(y)
    model = keras.Model(inputs, y)
    padded = x.copy()
    padded[0, 4:] = 0.0
    out = model.predict(padded, verbose=0)
    path = tmp_path / "tensor.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(padded, verbose=0), out, atol=1e-6)
    # A masked tail changes nothing: the first sequence equals itself cut at step 4.
    cut = model.predict(padded[:1, :4], verbose=0)
    np.testing.assert_allclose(out[:1], cut, atol=1e-5)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="tensor_format"):
        Bilinear(4, tensor_format="tucker")
    with pytest.raises(ValueError, match="CP `rank`"):
        Bilinear(4, rank=0)
    with pytest.raises(ValueError, match="tensor-train `rank`"):
        GatedBilinear(4, tensor_format="tt", rank=(2, 2, 2))
    for scale in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="tensor_scale"):
            Bilinear(4, tensor_scale=scale)
    with pytest.raises(TypeError, match="cell_options"):
        zoo.get("music_rnn", cell_options="rank=4")


def _correlation(a, b):
    a, b = np.asarray(a, "float64").ravel(), np.asarray(b, "float64").ravel()
    assert a.size == b.size
    return float(np.corrcoef(a, b)[0, 1])


def test_seeded_factors_and_cores_draw_streams_of_their_own():
    from zoo.layers import BilinearProduct, TTMatrix

    # Equal sizes, so one seed for every weight would have drawn the same numbers.
    cp = BilinearProduct(6, "cp", rank=4, seed=0)
    cp.build((6, 6))
    assert abs(_correlation(cp.input_factor, cp.state_factor)) < 0.9
    tensor = np.asarray(cp.full_tensor())
    assert not np.allclose(tensor, tensor.transpose(1, 0, 2), atol=1e-3)  # not symmetric
    tt = BilinearProduct(6, "tt", rank=4, seed=0)
    tt.build((6, 6))
    assert abs(_correlation(tt.core_1, np.asarray(tt.core_3).T)) < 0.9
    matrix = TTMatrix(64, 64, rank=3, cores=3, seed=0)
    matrix.build()
    first, last = matrix.core_weights[0], matrix.core_weights[-1]
    assert abs(_correlation(first, np.transpose(last, (3, 1, 2, 0)))) < 0.9
    # The same seed still gives the same weights.
    again = BilinearProduct(6, "cp", rank=4, seed=0)
    again.build((6, 6))
    np.testing.assert_array_equal(np.asarray(again.input_factor), np.asarray(cp.input_factor))
    # A cell's input and recurrent TT kernels of one shape differ too.
    from zoo.layers import GRUCell

    cell = GRUCell(16, kernel_format="tt", recurrent_kernel_format="tt", tt_rank=2, seed=0)
    cell.build((None, 16))
    kernels = [w for w in cell.weights if "core" in w.path]
    shapes = {}
    for w in kernels:
        shapes.setdefault(tuple(w.shape), []).append(np.asarray(w))
    pairs = [v for v in shapes.values() if len(v) > 1]
    assert pairs, [w.path for w in kernels]
    for same_shape in pairs:
        assert abs(_correlation(same_shape[0], same_shape[1])) < 0.9
