"""The zoo cells against NumPy implementations of their equations, against Keras's own
layers, and through every RNN feature (masking, go_backwards, stateful, Bidirectional,
stacking, dropout, .keras files)."""

import keras
import numpy as np
import pytest
from keras import ops

import zoo
from tests.portable import assert_close, assert_equal, numpy
from zoo import backend
from zoo.layers import GRU, Elman, Jordan, PeepholeLSTM

# Every test here runs on each Keras backend (the loop is TensorFlow's XLA loop on
# TensorFlow and `ops.scan` elsewhere), except the finite differences in float64 on JAX.
pytestmark = pytest.mark.portable

B, T, D, U, P = 3, 6, 4, 5, 2


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# -- NumPy references, written from the equations in the issue, not from the cell code --
def np_peephole(x, w, pb=None, h=None, c=None):
    kernel, recurrent, bias, pi, pf, po = (w[k] for k in ("kernel", "recurrent_kernel", "bias", "peephole_i", "peephole_f", "peephole_o"))
    n = recurrent.shape[0]
    h = np.zeros((x.shape[0], n)) if h is None else h
    c = np.zeros((x.shape[0], n)) if c is None else c
    const = bias + (0 if pb is None else pb @ w["pb_kernel"])
    outs = []
    for t in range(x.shape[1]):
        a = x[:, t] @ kernel + h @ recurrent + const
        ai, af, ac, ao = a[:, :n], a[:, n : 2 * n], a[:, 2 * n : 3 * n], a[:, 3 * n :]
        i = sigmoid(ai + pi * c)
        f = sigmoid(af + pf * c)
        c = f * c + i * np.tanh(ac)
        o = sigmoid(ao + po * c)
        h = o * np.tanh(c)
        outs.append(h)
    return np.stack(outs, 1), [h, c]


def np_gru(x, w, reset_after, pb=None, h=None):
    kernel, recurrent, bias = w["kernel"], w["recurrent_kernel"], w["bias"]
    n = recurrent.shape[0]
    h = np.zeros((x.shape[0], n)) if h is None else h
    b_in, b_rec = (bias[0], bias[1]) if reset_after else (bias, np.zeros_like(bias))
    if pb is not None:
        b_in = b_in + pb @ w["pb_kernel"]
    outs = []
    for t in range(x.shape[1]):
        xp = x[:, t] @ kernel + b_in
        if reset_after:
            hp = h @ recurrent + b_rec
            z = sigmoid(xp[:, :n] + hp[:, :n])
            r = sigmoid(xp[:, n : 2 * n] + hp[:, n : 2 * n])
            cand = np.tanh(xp[:, 2 * n :] + r * hp[:, 2 * n :])
        else:
            z = sigmoid(xp[:, :n] + h @ recurrent[:, :n])
            r = sigmoid(xp[:, n : 2 * n] + h @ recurrent[:, n : 2 * n])
            cand = np.tanh(xp[:, 2 * n :] + (r * h) @ recurrent[:, 2 * n :])
        h = z * h + (1 - z) * cand
        outs.append(h)
    return np.stack(outs, 1), [h]


def np_elman(x, w, pb=None, h=None):
    n = w["recurrent_kernel"].shape[0]
    h = np.zeros((x.shape[0], n)) if h is None else h
    const = w["bias"] + (0 if pb is None else pb @ w["pb_kernel"])
    outs = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ w["kernel"] + h @ w["recurrent_kernel"] + const)
        outs.append(h)
    return np.stack(outs, 1), [h]


def np_jordan(x, w, pb=None, y=None):
    m = w["output_kernel"].shape[1]
    y = np.zeros((x.shape[0], m)) if y is None else y
    const = w["bias"] + (0 if pb is None else pb @ w["pb_kernel"])
    outs = []
    for t in range(x.shape[1]):
        a = np.tanh(x[:, t] @ w["kernel"] + y @ w["recurrent_kernel"] + const)
        y = np.tanh(a @ w["output_kernel"] + w["output_bias"])
        outs.append(y)
    return np.stack(outs, 1), [y]


CASES = {
    "peephole": (lambda **kw: PeepholeLSTM(U, **kw), np_peephole),
    "gru_reset_after": (lambda **kw: GRU(U, reset_after=True, **kw), lambda x, w, **kw: np_gru(x, w, True, **kw)),
    "gru_reset_before": (lambda **kw: GRU(U, reset_after=False, **kw), lambda x, w, **kw: np_gru(x, w, False, **kw)),
    "elman": (lambda **kw: Elman(U, **kw), np_elman),
    "jordan": (lambda **kw: Jordan(U, output_units=3, **kw), np_jordan),
}


def randomize(layer, seed=1):
    rng = np.random.default_rng(seed)
    for v in layer.weights:
        v.assign(rng.normal(scale=0.6, size=v.shape).astype("float32"))
    return {v.path.split("/")[-1]: v.numpy().astype("float64") for v in layer.weights}


@pytest.fixture
def x():
    return np.random.default_rng(0).normal(size=(B, T, D)).astype("float32")


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("with_pb", [False, True])
@pytest.mark.parametrize("training", [False, True])  # XLA inference loop and graph loop
def test_matches_numpy_reference(case, with_pb, training, x):
    make, reference = CASES[case]
    layer = make(return_sequences=True, return_state=True, pb_dim=P if with_pb else 0)
    pb = np.random.default_rng(2).normal(size=(B, P)).astype("float32") if with_pb else None
    kwargs = {"pb": pb} if with_pb else {}
    layer(x, **kwargs)
    weights = randomize(layer)
    got = layer(x, training=training, **kwargs)
    want_seq, want_states = reference(x.astype("float64"), weights, **({"pb": pb.astype("float64")} if with_pb else {}))
    assert_close(got[0], want_seq, atol=1e-5)
    for g, w in zip(got[1:], want_states):
        assert_close(g, w, atol=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_cell_in_plain_keras_rnn_equals_zoo_layer(case, x):
    make, _ = CASES[case]
    layer = make(return_sequences=True, pb_dim=P)
    pb = np.random.default_rng(2).normal(size=(B, P)).astype("float32")
    layer(x, pb=pb)
    randomize(layer)
    plain = keras.layers.RNN(layer.cell, return_sequences=True)
    with_pb = np.concatenate([x, np.repeat(pb[:, None], T, 1)], -1)
    assert_close(plain(with_pb), layer(x, pb=pb), atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_gradients_match_finite_differences(case):
    probe = ops.ones((1, 1), "float64")
    if not backend.float64_available() or ops.matmul(probe, probe).dtype != probe.dtype:
        # JAX without x64; Keras 3.15's torch matmul returns float64 products as float32.
        pytest.skip("float64 finite differences: this backend's matmul is float32")
    make, _ = CASES[case]
    x = ops.convert_to_tensor(np.random.default_rng(3).normal(size=(2, 4, 3)), dtype="float64")
    pb = ops.convert_to_tensor(np.random.default_rng(4).normal(size=(2, P)), dtype="float64")
    layer = make(return_sequences=True, pb_dim=P, dtype="float64")
    layer(x, pb=pb)
    randomize(layer)

    def loss():
        return float(numpy(ops.sum(ops.sin(layer(x, pb=pb, training=True)))))

    def value():
        total = ops.sum(ops.sin(layer(x, pb=pb, training=True)))
        return total, None

    _, _, _, grads = backend.value_and_grad(value, [], layer.trainable_weights, model=layer)
    grads = [numpy(g) for g in grads]
    eps = 1e-6
    for var, grad in zip(layer.trainable_weights, grads):
        flat = var.numpy().ravel()
        for index in range(0, flat.size, max(1, flat.size // 7)):
            saved = flat[index]
            flat[index] = saved + eps
            var.assign(flat.reshape(var.shape))
            up = loss()
            flat[index] = saved - eps
            var.assign(flat.reshape(var.shape))
            down = loss()
            flat[index] = saved
            var.assign(flat.reshape(var.shape))
            numeric = (up - down) / (2 * eps)
            assert abs(numeric - grad.ravel()[index]) < 1e-6 * max(1.0, abs(numeric)), var.path


@pytest.mark.parametrize("case", CASES)
def test_keras_file_round_trip(case, x, tmp_path):
    make, _ = CASES[case]
    inputs = keras.Input((None, D))
    pb_in = keras.Input((P,))
    seq = make(return_sequences=True, pb_dim=P)(inputs, pb=pb_in)
    out = make(return_sequences=False)(seq)
    model = keras.Model([inputs, pb_in], out)
    pb = np.ones((B, P), "float32")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert_equal(loaded.predict([x, pb], verbose=0), model.predict([x, pb], verbose=0))
    config = model.layers[2].get_config()
    assert type(model.layers[2]).from_config(config).get_config() == config


# -- agreement with Keras's own layers ------------------------------------------------
def test_peephole_with_zero_peepholes_equals_keras_lstm(x):
    lstm = keras.layers.LSTM(U, return_sequences=True, return_state=True)
    want = lstm(x)
    randomize(lstm)
    want = lstm(x)
    ours = zoo.layers.peephole_from_lstm(lstm)
    for training in (False, True):
        for a, b in zip(ours(x, training=training), want):
            assert_close(a, b, atol=1e-6)


def test_peephole_from_lstm_needs_a_built_lstm():
    with pytest.raises(ValueError, match="built"):
        zoo.layers.peephole_from_lstm(keras.layers.LSTM(3))
    with pytest.raises(ValueError, match="keras.layers.LSTM"):
        zoo.layers.peephole_from_lstm(keras.layers.GRU(3))


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_equals_keras_gru(reset_after, x):
    theirs = keras.layers.GRU(U, return_sequences=True, reset_after=reset_after)
    theirs(x)
    randomize(theirs)
    ours = GRU(U, return_sequences=True, reset_after=reset_after)
    ours(x)
    ours.set_weights(theirs.get_weights())
    assert_close(ours(x), theirs(x), atol=1e-6)


def test_elman_equals_keras_simple_rnn(x):
    theirs = keras.layers.SimpleRNN(U, return_sequences=True)
    theirs(x)
    randomize(theirs)
    ours = Elman(U, return_sequences=True)
    ours(x)
    ours.set_weights(theirs.get_weights())
    assert_close(ours(x), theirs(x), atol=1e-6)


# -- RNN features -----------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES)
def test_masking_and_backwards_match_keras_loop(case, x):
    """The zoo loop and Keras's generic loop (`unroll=True` uses it) agree on masks."""
    make, _ = CASES[case]
    mask = np.ones((B, T), bool)
    mask[0, 4:] = False
    mask[1, :2] = False
    # Keras 3.15's generic torch loop fails on a mask with go_backwards (it flips a
    # tuple), so the reference runs forwards only there.
    for go_backwards in (False, True) if backend.name() != "torch" else (False,):
        ours = make(return_sequences=True, return_state=True, go_backwards=go_backwards)
        ours(x)
        randomize(ours)
        generic = make(return_sequences=True, return_state=True, go_backwards=go_backwards, unroll=True)
        generic(x)
        generic.set_weights(ours.get_weights())
        for training in (False, True):
            for a, b in zip(ours(x, mask=mask, training=training), generic(x, mask=mask)):
                assert_close(a, b, atol=1e-6)


def test_masking_layer_and_bidirectional_stack(x):
    model = keras.Sequential(
        [
            keras.Input((None, D)),
            keras.layers.Masking(0.0),
            keras.layers.Bidirectional(PeepholeLSTM(U, return_sequences=True)),
            GRU(U),
        ]
    )
    padded = x.copy()
    padded[0, 3:] = 0.0
    full = model.predict(padded, verbose=0)
    short = model.predict(padded[:1, :3], verbose=0)
    assert_close(full[0], short[0], atol=1e-5)
    assert full.shape == (B, U)


def test_stacked_cells_in_keras_rnn(x):
    cells = [zoo.layers.PeepholeLSTMCell(U), zoo.layers.GRUCell(U), zoo.layers.JordanCell(U, output_units=2)]
    out = keras.layers.RNN(cells, return_sequences=True)(x)
    assert out.shape == (B, T, 2)


def test_stateful_carries_state_between_calls(x):
    layer = PeepholeLSTM(U, stateful=True, return_sequences=True)
    whole = PeepholeLSTM(U, return_sequences=True)
    whole(x)
    layer(x[:, :3])
    layer.set_weights(whole.get_weights())
    layer.reset_states()
    first = layer(x[:, :3])
    second = layer(x[:, 3:])
    assert_close(np.concatenate(numpy([first, second]), 1), whole(x), atol=1e-6)


def test_initial_state_and_return_state(x):
    layer = Jordan(U, output_units=2, return_state=True)
    y0 = np.full((B, 2), 0.3, "float32")
    out, state = layer(x, initial_state=[y0])
    layer(x)
    weights = randomize(layer)
    out, state = layer(x, initial_state=[y0])
    want, [want_state] = np_jordan(x.astype("float64"), weights, y=y0.astype("float64"))
    assert_close(out, want[:, -1], atol=1e-5)
    assert_close(state, want_state, atol=1e-5)


def test_dropout_one_mask_per_sequence_and_off_at_inference(x):
    layer = Elman(U, dropout=0.5, recurrent_dropout=0.5, return_sequences=True, seed=1)
    inference = layer(x, training=False)
    assert_close(layer(x, training=False), inference)
    a, b = layer(x, training=True), layer(x, training=True)
    assert not np.allclose(numpy(a), numpy(b))
    with pytest.raises(ValueError, match="dropout"):
        Elman(U, dropout=1.0)


def test_unit_forget_bias_and_identity_initializer(x):
    layer = PeepholeLSTM(U)
    layer(x)
    assert_equal(layer.cell.bias.numpy()[U : 2 * U], 1.0)
    assert_equal(layer.cell.bias.numpy()[:U], 0.0)
    irnn = Elman(U, activation="relu", recurrent_initializer="identity")
    irnn(x)
    assert_equal(irnn.cell.recurrent_kernel.numpy(), np.eye(U))


# -- bad input --------------------------------------------------------------------------
def test_bad_input_is_refused_clearly(x):
    with pytest.raises(ValueError, match="units"):
        PeepholeLSTM(0)
    with pytest.raises(ValueError, match="units"):
        GRU(-3)
    with pytest.raises(ValueError, match="output_units"):
        Jordan(3, output_units=0)
    layer = GRU(U)
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        layer(x[0])
    layer(x)
    with pytest.raises(ValueError, match="built for 4 input features; received 7"):
        layer(np.zeros((B, T, 7), "float32"))
    with pytest.raises(ValueError, match="takes no `pb`"):
        layer(x, pb=np.zeros((B, 2), "float32"))
    pb_layer = Elman(U, pb_dim=P)
    with pytest.raises(ValueError, match="pass `pb`"):
        pb_layer(x)
    with pytest.raises(ValueError, match=r"`pb` must have shape \(batch, 2\)"):
        pb_layer(x, pb=np.zeros((B, 3), "float32"))

