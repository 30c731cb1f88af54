"""RNNPB: the update rules against NumPy, the three modes, saving, and bad input."""

import keras
import numpy as np
import pandas as pd
import pytest
from keras import ops

import zoo
from zoo.models.rnnpb import RNNPB

from tests.portable import numpy
from zoo import backend

# Learning, recognition, streaming and generation on every Keras backend.
pytestmark = pytest.mark.portable
RTOL = 1e-12 if backend.float64_available() else 1e-6
from zoo.models.rnnpb.optimizers import adadelta as _adadelta, pb_adagrad as _pb_adagrad
from zoo.models.rnnpb.pb_space import (choose_rule, class_means, classify, diagonal_is_smallest,
                                       nearest_class_mean, nearest_neighbour, pb_distance_table,
                                       plot_pb_space, table_separation)

CHANNELS = 3


def periodic_patterns(count=3, length=48):
    """`count` distinct periodic 3-channel patterns (different periods and phases)."""
    t = np.arange(length)
    patterns = []
    for k in range(count):
        f = 2 * np.pi / (6 + 5 * k)
        patterns.append(np.stack(
            [np.sin(f * t), np.cos(f * t + k), 0.5 * np.sin(2 * f * t + 2 * k)], -1
        ).astype("float32"))
    return patterns


def small_model(**kwargs):
    return zoo.get("rnnpb", **{"units": 16, "pb_dim": 2, "dropout": 0.0, **kwargs})


@pytest.fixture(scope="module")
def trained():
    """K=3 periodic patterns learnt to a low error (the issue's toy check)."""
    keras.utils.set_random_seed(0)
    patterns = periodic_patterns()
    # The frame transform as the toy was tuned with (before the robust default).
    model = zoo.get("rnnpb", units=48, pb_dim=2, scaling="standard", compress=None, dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(patterns, labels=["a", "b", "c"], epochs=1, batch_size=3, verbose=0)
    # The same starting weights on every backend (their random streams differ), so
    # every backend trains the same toy model.
    rng = np.random.default_rng(0)
    for weight in model.trainable_weights:
        bound = np.sqrt(3.0 / weight.shape[0]) if len(weight.shape) == 2 else 0.0
        weight.assign(rng.uniform(-bound, bound, size=weight.shape).astype("float32"))
    model.fit(patterns, epochs=599, batch_size=3, verbose=0)
    return model, patterns


def nmse(prediction, truth):
    return float(np.mean((prediction - truth) ** 2) / np.var(truth, axis=0).mean())


# -- update rules against NumPy ----------------------------------------------------------
def test_adadelta_matches_numpy_eqs_8_to_10():
    rng = np.random.default_rng(0)
    pb = rng.normal(size=(3, 2))
    msg, msd = np.zeros_like(pb), np.zeros_like(pb)
    t_pb, t_msg, t_msd = (ops.convert_to_tensor(v) for v in (pb, msg, msd))
    rho, eps = 0.9, 1e-4
    for _ in range(5):
        g = rng.normal(size=pb.shape)
        msg = rho * msg + (1 - rho) * g**2
        delta = -np.sqrt(msd + eps) / np.sqrt(msg + eps) * g
        msd = rho * msd + (1 - rho) * delta**2
        pb = pb + delta
        t_pb, t_msg, t_msd = _adadelta(t_pb, t_msg, t_msd, ops.convert_to_tensor(g), rho, eps, 1.0)
    np.testing.assert_allclose(numpy(t_pb), pb, rtol=RTOL)
    np.testing.assert_allclose(numpy(t_msd), msd, rtol=RTOL)


def test_pb_adagrad_matches_numpy_eqs_6_and_7():
    rng = np.random.default_rng(1)
    pb, acc = rng.normal(size=(4, 2)), np.zeros((4, 2))
    t_pb, t_acc = ops.convert_to_tensor(pb), ops.convert_to_tensor(acc)
    for _ in range(4):
        g = rng.normal(size=pb.shape)
        acc = acc + g**2
        pb = pb - 0.1 * g / np.sqrt(acc + 1e-8)
        t_pb, t_acc = _pb_adagrad(t_pb, t_acc, ops.convert_to_tensor(g), 0.1, 1e-8)
    np.testing.assert_allclose(numpy(t_pb), pb, rtol=RTOL)


def test_sequence_error_is_eq_2_per_frame_and_channel_and_ignores_padding():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(n, CHANNELS)).astype("float32") for n in (9, 5)]
    model = small_model()
    model.fit(seqs, epochs=1, verbose=0)
    pb = model.pb_table.numpy()
    z, mask = model.features_of(seqs)
    errors = numpy(model.sequence_errors(z, mask, pb))
    for i, seq in enumerate(seqs):
        zi = numpy(model.to_features(seq))[None]
        prediction = numpy(model.predict_features(zi[:, :-1], pb[i : i + 1]))
        expected = np.mean((prediction - zi[:, 1:]) ** 2)
        np.testing.assert_allclose(errors[i], expected, rtol=1e-5)
    unrolled = numpy(model.sequence_errors(z, mask, pb, unroll=True))
    np.testing.assert_allclose(unrolled, errors, rtol=1e-5)


def test_standardisation_and_pca_are_fit_on_training_frames():
    rng = np.random.default_rng(0)
    seqs = [rng.normal(3.0, 2.0, size=(40, 4)).astype("float32") @ rng.normal(size=(4, 4)).astype("float32")
            for _ in range(3)]
    model = small_model(scaling="standard")
    model.fit(seqs, epochs=1, verbose=0)
    frames = np.concatenate(seqs)
    z = numpy(model.to_features(frames))
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-4)
    np.testing.assert_allclose(numpy(model.to_channels(z)), frames, rtol=1e-4, atol=1e-4)
    robust = small_model()  # the default: median and interquartile range
    robust.fit(seqs, epochs=1, verbose=0)
    z = numpy(robust.to_features(frames))
    q25, q50, q75 = np.percentile(z, [25, 50, 75], axis=0)
    np.testing.assert_allclose(q50, 0, atol=1e-4)
    np.testing.assert_allclose((q75 - q25) / 1.349, 1, atol=1e-4)
    np.testing.assert_allclose(numpy(robust.to_channels(z)), frames, rtol=1e-4, atol=1e-4)
    compressed = small_model(compress=0.5, scaling="standard")
    compressed.fit(seqs, epochs=1, verbose=0)
    z = numpy(compressed.to_features(frames))
    np.testing.assert_allclose(z.std(0), 1, atol=1e-4)
    np.testing.assert_allclose(numpy(compressed.to_channels(z)), frames, rtol=1e-3, atol=1e-3)
    reduced = small_model(pca_components=2)
    reduced.fit(seqs, epochs=1, verbose=0)
    components = reduced.components.numpy()
    np.testing.assert_allclose(components.T @ components, np.eye(2), atol=1e-5)
    assert numpy(reduced(( frames[None], reduced.pb_table.numpy()[:1]))).shape == (1, 120, 4)


# -- learning mode -----------------------------------------------------------------------
def test_fit_learns_weights_and_pb_table_and_keeps_labels():
    keras.utils.set_random_seed(0)
    seqs = periodic_patterns(count=3, length=20)
    model = small_model()
    history = model.fit(seqs, labels=np.array([1, 2, 3]), epochs=30, batch_size=2, verbose=0)
    loss = history.history["loss"]
    assert loss[-1] < loss[0]
    assert model.num_sequences == 3 and model.sequence_labels == [1, 2, 3]
    assert int(model.epochs_trained.numpy()) == 30
    table = model.pb_table.numpy()
    assert np.abs(table).sum() > 0 and len({tuple(r) for r in table.round(6)}) == 3
    with pytest.raises(ValueError, match="PB table for 3 training sequences"):
        model.fit(seqs[:2], epochs=1, verbose=0)


def test_fit_takes_any_keras_optimizer_and_labelled_sequences():
    data = zoo.data.LabelledSequences(periodic_patterns(2, 16), np.array([0, 1]), ("up", "down"))
    model = small_model()
    model.compile(optimizer=keras.optimizers.SGD(0.01))
    model.fit(data, epochs=2, verbose=0)
    assert model.sequence_labels == ["up", "down"]
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    with pytest.raises(ValueError, match="own loss"):
        model.compile(loss="mse")


def test_fit_on_random_windows_learns_from_crops():
    keras.utils.set_random_seed(0)
    seqs = periodic_patterns(count=3, length=20)
    model = small_model()
    history = model.fit(seqs, epochs=20, batch_size=3, window=6, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert history.history["loss"][-1] < history.history["loss"][0]
    with pytest.raises(ValueError, match="window"):
        model.fit(seqs, epochs=1, window=1, verbose=0)


def test_algorithm_1_repeats_each_sequence_until_threshold_or_cap():
    seqs = periodic_patterns(count=3, length=16)
    model = small_model()
    history = model.fit(seqs, epochs=2, until=1e9, max_iterations=7, verbose=0)
    assert history.history["iterations"] == [1.0, 1.0]
    history = model.fit(seqs, epochs=1, until=0.0, max_iterations=7, verbose=0)
    assert history.history["iterations"] == [7.0]
    assert int(model.epochs_trained.numpy()) == 3


# -- the toy check of the issue: generation and recognition ------------------------------
def test_each_training_pb_regenerates_its_own_pattern(trained):
    model, patterns = trained
    for k, pattern in enumerate(patterns):
        frames = model.generate(model.pb_table.numpy()[k], pattern[0], len(pattern) - 1)
        assert frames.shape == (len(pattern) - 1, CHANNELS)
        assert nmse(frames, pattern[1:]) < 0.05, k


def test_recognising_training_patterns_recovers_their_pbs(trained):
    model, patterns = trained
    pbs, errors = model.recognize(patterns, steps=150, verbose=0)
    assert errors.shape == (150, 3) and errors[-1].mean() < errors[0].mean()
    table = model.pb_table.numpy()
    nearest = np.linalg.norm(pbs[:, None] - table[None], axis=-1).argmin(axis=1)
    np.testing.assert_array_equal(nearest, [0, 1, 2])
    assert list(nearest_class_mean(table, model.sequence_labels, pbs)) == ["a", "b", "c"]
    # One row per class: the class mean separates the table, leave-one-out 1-NN cannot.
    labels, classified = model.classify(patterns, steps=150, starts=1, verbose=0)
    assert list(labels) == ["a", "b", "c"]
    np.testing.assert_allclose(classified, pbs, atol=1e-6)
    with pytest.raises(ValueError, match="`rule` must be one of 'auto', 'mean', '1-NN'"):
        model.classify(patterns, rule="knn")
    # More starts keep, per sequence, the start with the lowest error: never worse.
    multi, multi_errors = model.recognize(patterns, steps=150, starts=3, verbose=0)
    assert multi.shape == (3, 2) and multi_errors.shape == (150, 3)
    assert (multi_errors[-1] <= errors[-1] + 1e-6).all()
    np.testing.assert_allclose(model.spread_pbs(3)[0], table.mean(axis=0), atol=1e-6)


def test_batched_recognition_equals_one_at_a_time(trained):
    model, patterns = trained
    ragged = [patterns[0], patterns[1][:30]]
    batched, trace = model.recognize(ragged, steps=12, verbose=0, chunk=5)
    single = np.concatenate([model.recognize([s], steps=12, verbose=0, chunk=5)[0] for s in ragged])
    np.testing.assert_allclose(batched, single, atol=1e-5)
    assert trace.shape == (12, 2)


def test_generation_is_the_model_fed_its_own_output(trained):
    model, patterns = trained
    pb = model.pb_table.numpy()[1]
    primer = patterns[1][:5]
    frames = model.generate(pb, primer, 4)
    sequence = np.concatenate([primer, frames[:3]])
    prediction = numpy(model((sequence[None], pb[None])))[0]
    np.testing.assert_allclose(frames, prediction[4:], atol=1e-4)
    batched = model.generate(np.stack([pb, pb]), np.stack([primer, primer]), 4)
    assert batched.shape == (2, 4, CHANNELS)
    np.testing.assert_allclose(batched[0], frames, atol=1e-5)


def test_stream_gives_one_pb_per_frame_and_follows_a_change(trained):
    model, patterns = trained
    stream = np.concatenate([patterns[0], patterns[2]])
    pbs, errors = model.recognize_stream(stream, window=16, updates=5, verbose=0)
    assert pbs.shape == (len(stream), 2) and np.isnan(errors[0]) and np.isfinite(errors[1:]).all()
    table = model.pb_table.numpy()
    distance = np.linalg.norm(pbs[:, None] - table[None], axis=-1)
    # After one window of the first pattern the PB sits nearest its training PB; once
    # the stream switches, the PB moves towards the second pattern's.
    assert np.mean(distance[20:48].argmin(axis=1) == 0) > 0.8
    assert np.median(distance[48 + 20 :, 2]) < 0.75 * np.median(distance[20:48, 2])
    live = model.stream(window=16, updates=5)
    for frame in stream[:10]:
        pb = live.push(frame)
    np.testing.assert_allclose(pb, pbs[9], atol=1e-5)


# -- saving ------------------------------------------------------------------------------
def test_keras_file_round_trip_keeps_table_labels_and_transform(trained, tmp_path):
    model, patterns = trained
    path = tmp_path / "rnnpb.keras"
    model.save(path)
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = keras.models.load_model(path)
    assert not [w for w in caught if "compile" in str(w.message)], [str(w.message) for w in caught]
    assert type(loaded.optimizer) is type(model.optimizer)  # the optimizer comes back too
    assert isinstance(loaded, RNNPB)
    assert loaded.sequence_labels == ["a", "b", "c"]
    np.testing.assert_array_equal(loaded.pb_table.numpy(), model.pb_table.numpy())
    np.testing.assert_array_equal(loaded.frame_scale.numpy(), model.frame_scale.numpy())
    x, pb = np.stack(patterns), model.pb_table.numpy()
    np.testing.assert_allclose(loaded.predict((x, pb), verbose=0), model.predict((x, pb), verbose=0),
                               atol=1e-6)
    a, _ = loaded.recognize(patterns[:1], steps=10, verbose=0)
    b, _ = model.recognize(patterns[:1], steps=10, verbose=0)
    np.testing.assert_allclose(a, b, atol=1e-6)
    config = model.get_config()
    assert RNNPB.from_config(config).get_config() == config


def test_registered_and_cites_the_paper():
    info = zoo.info("rnnpb")
    assert "Tani" in info["reference"] and info["settings"]["units"] == 100
    assert info["settings"]["pb_dim"] == 16 and info["settings"]["cell"] == "elman"
    assert info["settings"]["dropout"] == 0.2  # defaults for new data (issue 18)


@pytest.mark.parametrize("cell", ["jordan", "gru", "peephole_lstm"])
def test_other_cells_learn_recognise_and_generate(cell):
    seqs = periodic_patterns(count=2, length=12)
    model = small_model(cell=cell, units=8)
    model.fit(seqs, epochs=2, verbose=0)
    pbs = model.pb_table.numpy()
    if cell == "jordan":  # one recognition is enough: the update code does not depend on the cell
        pbs, _ = model.recognize(seqs, steps=3, verbose=0)
    assert pbs.shape == (2, 2)
    assert model.generate(pbs[0], seqs[0][:2], 3).shape == (3, CHANNELS)


# -- bad input ---------------------------------------------------------------------------
def test_bad_input_is_reported_clearly(trained):
    model, patterns = trained
    with pytest.raises(ValueError, match="has 2 channels; the model was built for 3"):
        model.recognize([patterns[0][:, :2]], verbose=0)
    nan = patterns[0].copy()
    nan[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or inf \\(first at frame 5, channel 1\\)"):
        model.recognize([nan], verbose=0)
    with pytest.raises(ValueError, match="1 frames; at least 2"):
        model.recognize([patterns[0][:1]], verbose=0)
    with pytest.raises(ValueError, match="empty"):
        model.recognize([], verbose=0)
    with pytest.raises(ValueError, match=r"`pb` must have shape \(1, 2\)"):
        model.generate(np.zeros(3), patterns[0][:2], 5)
    with pytest.raises(ValueError, match=r"`pb` must have shape \(batch, 2\)"):
        model((patterns[0][None], np.zeros((1, 5), "float32")))
    with pytest.raises(ValueError, match=r"`pb` must have shape \(3, 2\)"):
        model.recognize(patterns, initial_pb=np.zeros((2, 2)), verbose=0)
    with pytest.raises(ValueError, match="3 finite values"):
        model.stream().push([0.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="`labels` has 1 entries for 3"):
        fresh = small_model()
        fresh.fit(patterns, labels=["a"], verbose=0)
    with pytest.raises(ValueError, match="call `fit` first"):
        small_model().recognize(patterns, verbose=0)
    with pytest.raises(ValueError, match="zoo cell with PB input"):
        small_model(cell="lstm")
    with pytest.raises(ValueError, match="pb_dim"):
        small_model(pb_dim=0)


@pytest.mark.parametrize("settings, message", [
    ({"rho": 2.0}, "rho"), ({"rho": 0.0}, "rho"), ({"rho": float("nan")}, "rho"),
    ({"epsilon": 0.0}, "epsilon"), ({"learning_rate": -1.0}, "learning_rate"),
    ({"learning_rate": float("inf")}, "learning_rate"), ({"steps": 0}, "steps"),
    ({"starts": 0}, "starts"),
])
def test_recognition_settings_are_validated(trained, settings, message):
    model, patterns = trained
    with pytest.raises(ValueError, match=f"`{message}` must be"):
        model.recognize(patterns[:1], verbose=0, **settings)
    if "steps" not in settings and "starts" not in settings:
        with pytest.raises(ValueError, match=f"`{message}` must be"):
            model.stream(**settings)


def test_generate_and_predict_say_what_they_need(trained):
    model, patterns = trained
    with pytest.raises(ValueError, match=r"`pb` must have shape \(2,\) or \(batch, 2\)"):
        model.generate(0.5, patterns[0][:2], 5)
    with pytest.raises(ValueError, match="`initial_input` must be one frame"):
        model.generate(np.zeros(2), 0.5, 5)
    with pytest.raises(ValueError, match="`steps` must be a positive integer"):
        model.generate(np.zeros(2), patterns[0][:2], 0)
    with pytest.raises(ValueError, match="`predict` needs a trained RNNPB: call `fit` first"):
        small_model().predict((patterns[0][None], np.zeros((1, 2), "float32")))


# -- the PB space ------------------------------------------------------------------------
def test_distance_tables_match_hand_computed_values():
    pbs = np.array([[0.0, 0.0], [0.0, 1.0], [3.0, 4.0], [3.0, 2.0]])
    labels = np.array(["joy", "joy", "fear", "fear"])
    table = pb_distance_table(pbs, labels)
    assert list(table.index) == ["joy1", "joy2", "fear1", "fear2"]
    assert table.loc["joy1", "fear1"] == pytest.approx(5.0)
    recognised = np.array([[0.0, 0.4], [3.0, 3.2]])
    table = pb_distance_table(recognised, ["joy", "fear"], reference=pbs, reference_labels=labels)
    assert isinstance(table, pd.DataFrame)
    assert table.loc["trained joy", "recognised joy"] == pytest.approx(0.1)
    assert table.loc["trained fear", "recognised joy"] == pytest.approx(np.hypot(3.0, 2.6))
    assert diagonal_is_smallest(table)
    swapped = pb_distance_table(recognised, ["fear", "joy"], reference=pbs, reference_labels=labels)
    assert not diagonal_is_smallest(swapped)
    assert list(nearest_class_mean(pbs, labels, recognised)) == ["joy", "fear"]
    classes, means = class_means(pbs, labels)
    assert classes == ["joy", "fear"] and means[1].tolist() == [3.0, 3.0]


def test_nearest_neighbour_labels_by_the_closest_row_and_leaves_one_out():
    pbs = np.array([[0.0, 0.0], [0.0, 1.0], [3.0, 4.0], [3.0, 2.0], [0.0, 2.6]])
    labels = np.array(["joy", "joy", "fear", "fear", "fear"])
    # [0, 2.2] is nearest the class mean of joy (distance 1.7 against 2.11 for fear's
    # mean [2, 2.87]) but nearest the single row [0, 2.6] of fear.
    assert list(nearest_class_mean(pbs, labels, [[0.0, 2.2]])) == ["joy"]
    assert list(nearest_neighbour(pbs, labels, [[0.0, 2.2], [3.0, 3.2]])) == ["fear", "fear"]
    # Leave one out: each row by its nearest other row ([0, 1] is 1.6 from [0, 2.6]).
    assert list(nearest_neighbour(pbs, labels)) == ["joy", "joy", "fear", "fear", "joy"]
    with pytest.raises(ValueError, match="at least 2 reference PB vectors"):
        nearest_neighbour(pbs[:1], labels[:1])
    with pytest.raises(ValueError, match="has 3 PB units; the reference has 2"):
        nearest_neighbour(pbs, labels, np.zeros((1, 3)))
    with pytest.raises(ValueError, match="5 rows but 2 labels"):
        nearest_neighbour(pbs, labels[:2])


def test_classify_auto_takes_1_nn_where_classes_form_separate_clusters():
    rng = np.random.default_rng(0)
    corners = np.array([[0.0, 0.0], [5.0, 5.0], [0.0, 5.0], [5.0, 0.0]])  # XOR: the two
    table = np.concatenate([c + rng.normal(scale=0.3, size=(5, 2)) for c in corners])
    labels = np.repeat(["x", "x", "y", "y"], 5)  # class means coincide at the centre
    separation = table_separation(table, labels)
    assert separation["1-NN"] == 1.0 and separation["mean"] < 0.8
    assert choose_rule(table, labels) == "1-NN"
    queries = corners + 0.1
    assert list(classify(table, labels, queries)) == ["x", "x", "y", "y"]
    # One tight cluster per class: the class mean, the paper's rule, also on a tie.
    assert choose_rule(corners[:2].repeat(3, axis=0), ["x"] * 3 + ["y"] * 3) == "mean"
    with pytest.raises(ValueError, match="`rule` must be one of"):
        classify(table, labels, queries, rule="nearest")


def test_plot_pb_space_writes_a_png(tmp_path):
    pbs = np.random.default_rng(0).normal(size=(6, 2))
    labels = ["a", "a", "b", "b", "c", "c"]
    path = plot_pb_space(pbs, labels, tmp_path / "pb.png", recognised=pbs[:3] + 0.1,
                         recognised_labels=labels[:3], title="PB space")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="3 rows but 2 labels"):
        plot_pb_space(pbs[:3], labels[:2], tmp_path / "x.png")
