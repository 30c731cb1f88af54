import numpy as np
import pytest

from zoo.data import Corpus, load_avec, save_avec
from zoo.data.synthetic import recola_like


@pytest.fixture
def corpus():
    return recola_like(train=2, dev=1, length=(30, 60), input_dim=12, seed=3)


def test_save_and_load_round_trip(corpus, tmp_path):
    save_avec(corpus, tmp_path)
    loaded = load_avec(tmp_path, normalize=False)
    assert sorted(loaded.names) == sorted(corpus.names)
    for name, x, y in zip(loaded.names, loaded.features, loaded.labels):
        i = corpus.names.index(name)
        np.testing.assert_allclose(x, corpus.features[i], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(y, corpus.labels[i], rtol=1e-5, atol=1e-6)
    assert loaded.dimensions == ("arousal", "valence")


def test_per_speaker_znorm(corpus, tmp_path):
    save_avec(corpus, tmp_path)
    loaded = load_avec(tmp_path)
    for x in loaded.features:
        np.testing.assert_allclose(x.mean(0), 0, atol=1e-4)
        np.testing.assert_allclose(x.std(0), 1, atol=1e-3)


def test_shared_speaker_normalised_jointly():
    a = np.arange(10, dtype="float32")[:, None]
    corpus = Corpus(["train_1", "train_2"], [a, a + 10], speakers=["s", "s"]).znorm()
    joined = np.concatenate(corpus.features)
    np.testing.assert_allclose(joined.mean(), 0, atol=1e-6)
    assert corpus.features[0].mean() < 0 < corpus.features[1].mean()


def test_padded_arrays_and_mask(corpus):
    x, y, mask = corpus.padded()
    lengths = [len(f) for f in corpus.features]
    assert x.shape == (3, max(lengths), 12) and y.shape == (3, max(lengths), 2)
    np.testing.assert_array_equal(mask.sum(1), lengths)
    for i, n in enumerate(lengths):
        assert not x[i, n:].any() and not y[i, n:].any()


def test_subset_by_partition(corpus):
    assert corpus.subset("dev").names == ["dev_1"]
    with pytest.raises(ValueError, match="test"):
        corpus.subset("test")


def test_avec_arff_with_per_dimension_gold_standard(tmp_path):
    (tmp_path / "features").mkdir()
    rows = "\n".join(f"'train_1',{0.04 * i:.2f},{i},{2 * i}" for i in range(5))
    (tmp_path / "features" / "train_1.arff").write_text(
        "@relation feats\n@attribute name string\n@attribute frameTime numeric\n"
        f"@attribute mfb0 numeric\n@attribute mfb1 numeric\n\n@data\n{rows}\n")
    for dim, scale in (("arousal", 0.1), ("valence", -0.1)):
        (tmp_path / "labels" / dim).mkdir(parents=True)
        rows = "\n".join(f"'train_1',{0.04 * i:.2f},{scale * i:.2f}" for i in range(5))
        (tmp_path / "labels" / dim / "train_1.arff").write_text(
            "@relation gold\n@attribute Instance_name string\n@attribute frameTime numeric\n"
            f"@attribute GoldStandard numeric\n@data\n{rows}\n")
    corpus = load_avec(tmp_path, normalize=False)
    np.testing.assert_allclose(corpus.features[0], [[i, 2 * i] for i in range(5)])
    np.testing.assert_allclose(corpus.labels[0][:, 0], [0.1 * i for i in range(5)], atol=1e-6)
    np.testing.assert_allclose(corpus.labels[0][:, 1], [-0.1 * i for i in range(5)], atol=1e-6)


def test_features_at_10ms_are_aligned_to_40ms_labels(tmp_path):
    (tmp_path / "features").mkdir()
    (tmp_path / "labels").mkdir()
    times = np.arange(40) * 0.01
    lines = ["frameTime,f0"] + [f"{t:.2f},{k}" for k, t in enumerate(times)]
    (tmp_path / "features" / "train_1.csv").write_text("\n".join(lines) + "\n")
    lines = ["frameTime,arousal,valence"] + [f"{0.04 * k:.2f},0,0" for k in range(10)]
    (tmp_path / "labels" / "train_1.csv").write_text("\n".join(lines) + "\n")
    corpus = load_avec(tmp_path, normalize=False)
    np.testing.assert_array_equal(corpus.features[0][:, 0], np.arange(10) * 4)


def _write_pair(tmp_path, feature_text, label_text):
    (tmp_path / "features").mkdir(exist_ok=True)
    (tmp_path / "labels").mkdir(exist_ok=True)
    (tmp_path / "features" / "train_1.csv").write_text(feature_text)
    (tmp_path / "labels" / "train_1.csv").write_text(label_text)


GOOD_LABELS = "frameTime;arousal;valence\n0;0.1;0.2\n0.04;0.1;0.2\n0.08;0.1;0.2\n"


@pytest.mark.parametrize("features,labels,message", [
    ("frameTime;f0\n0;1\n0.04;x1\n0.08;3\n", GOOD_LABELS,
     r"train_1.csv, line 3: a non-numeric cell 'x1' in column 'f0'"),
    ("frameTime;f0\n0;1\n0.04;\n0.08;3\n", GOOD_LABELS,
     r"train_1.csv, line 3: an empty cell in column 'f0'"),
    ("frameTime;f0\n0;1\n0.04;nan\n0.08;3\n", GOOD_LABELS, r"line 3"),
    ("t0;f0\n0;1\n0.04;2\n0.08;3\n", GOOD_LABELS, r"train_1.csv: missing time column"),
    ("frameTime;f0\n0;1\n0.04;2\n0.08;3\n", "frameTime;arousal\n0;0.1\n0.04;0.1\n0.08;0.1\n",
     r"labels/train_1.csv: missing label column\(s\) \['valence'\]"),
    ("frameTime;f0\n", GOOD_LABELS, r"no data rows"),
])
def test_malformed_files_name_file_line_and_problem(tmp_path, features, labels, message):
    _write_pair(tmp_path, features, labels)
    with pytest.raises(ValueError, match=message):
        load_avec(tmp_path)


def test_missing_folders_and_labels(tmp_path):
    with pytest.raises(ValueError, match="features/"):
        load_avec(tmp_path)
    _write_pair(tmp_path, "frameTime;f0\n0;1\n", GOOD_LABELS)
    (tmp_path / "labels" / "train_1.csv").unlink()
    with pytest.raises(ValueError, match="No labels for recording 'train_1'"):
        load_avec(tmp_path)


# -- misaligned or damaged files are refused, naming the file ---------------------------------
def _write(folder, name, features, labels):
    """features, labels: lists of (time, values...) rows."""
    (folder / "features").mkdir(parents=True, exist_ok=True)
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    (folder / "features" / f"{name}.csv").write_text(
        "frameTime;f0\n" + "".join(f"{t};{v}\n" for t, v in features))
    (folder / "labels" / f"{name}.csv").write_text(
        "frameTime;arousal;valence\n" + "".join(f"{t};{a};{b}\n" for t, a, b in labels))


def _grid(n, start=0.0, step=0.04):
    return [round(start + i * step, 4) for i in range(n)]


def test_labels_running_past_the_features_are_refused(tmp_path):
    _write(tmp_path, "train_1", [(t, i) for i, t in enumerate(_grid(20))],
           [(t, 0.1, 0.2) for t in _grid(200)])
    with pytest.raises(ValueError, match=r"labels/train_1.csv: labels cover 0..7.96 s, more "
                                         r"than one frame .*features/train_1.csv \(0..0.76 s\)"):
        load_avec(tmp_path)


def test_one_trailing_label_frame_is_tolerated(tmp_path):
    _write(tmp_path, "train_1", [(t, i) for i, t in enumerate(_grid(20))],
           [(t, 0.1, 0.2) for t in _grid(21)])
    corpus = load_avec(tmp_path, normalize=False)
    assert corpus.features[0][-1, 0] == 19 and len(corpus.labels[0]) == 21


def test_time_ranges_that_do_not_overlap_are_refused(tmp_path):
    _write(tmp_path, "train_1", [(t, i) for i, t in enumerate(_grid(20))],
           [(t, 0.1, 0.2) for t in _grid(20, start=100.0)])
    with pytest.raises(ValueError, match="the times do not overlap"):
        load_avec(tmp_path)


def test_feature_times_out_of_order_are_refused_with_the_line(tmp_path):
    times = _grid(20)
    times[7], times[8] = times[8], times[7]
    _write(tmp_path, "train_1", [(t, i) for i, t in enumerate(times)],
           [(t, 0.1, 0.2) for t in _grid(20)])
    with pytest.raises(ValueError, match=r"features/train_1.csv, line 10: time 0.28 does not "
                                         r"follow 0.32"):
        load_avec(tmp_path)


def test_names_that_differ_only_in_case_are_refused(tmp_path):
    _write(tmp_path, "train_1", [(t, i) for i, t in enumerate(_grid(5))],
           [(t, 0.1, 0.2) for t in _grid(5)])
    (tmp_path / "features" / "train_1.CSV").write_text(
        (tmp_path / "features" / "train_1.csv").read_text())
    with pytest.raises(ValueError, match="train_1.CSV and train_1.csv .* name the same recording"):
        load_avec(tmp_path)


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"frameTime;f0\n0;1\n0.04;1;2;3\n", "train_1.csv: .*line 3"),
    (b"frameTime;f0\n0;\xff\xfe\n", "not UTF-8"),
])
def test_damaged_csv_files_are_named(tmp_path, content, message):
    _write(tmp_path, "train_1", [(t, i) for i, t in enumerate(_grid(5))],
           [(t, 0.1, 0.2) for t in _grid(5)])
    (tmp_path / "features" / "train_1.csv").write_bytes(content)
    with pytest.raises(ValueError, match=message) as caught:
        load_avec(tmp_path)
    assert "train_1.csv" in str(caught.value)
