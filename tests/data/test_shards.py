"""Packed corpora: what `pack` writes `stream` gives back, in buckets and worker parts, and
every damaged folder is named before training starts."""

import json
import re
import shutil
import warnings

import numpy as np
import pytest

import zoo
from zoo.cli import main
from zoo.data import shards
from zoo.data.synthetic import recola_like
from zoo.models.emotion.evaluation import score_corpus


@pytest.fixture(scope="module")
def corpus():
    rng = np.random.default_rng(0)
    names, xs, ys = [], [], []
    for i, length in enumerate([30, 31, 45, 60, 61, 90, 120, 121, 33, 70]):
        names.append(f"{'train' if i < 8 else 'dev'}_{i}")
        xs.append(rng.normal(size=(length, 5)).astype("float32"))
        ys.append(rng.normal(size=(length, 2)).astype("float32"))
    return zoo.data.Corpus(names, xs, ys)


@pytest.fixture(scope="module")
def packed(corpus, tmp_path_factory):
    folder = tmp_path_factory.mktemp("packs") / "shards"
    index = zoo.data.pack(corpus, folder, shard_bytes=2000)
    return folder, index


def _records(data):
    """Every real frame of a stream, by the sum of its features (order-free)."""
    seen = []
    for x, y, mask in data:
        x, y, mask = (np.asarray(v) for v in (x, y, mask))
        for i in range(len(x)):
            n = int(mask[i].sum())
            assert not x[i, n:].any() and not mask[i, n:].any()  # padding is zeros
            seen.append((n, round(float(x[i, :n].sum()), 3), round(float(y[i, :n].sum()), 3)))
    return sorted(seen)


def _expected(corpus, prefix):
    return sorted((len(x), round(float(x.sum()), 3), round(float(y.sum()), 3))
                  for n, x, y in zip(corpus.names, corpus.features, corpus.labels)
                  if n.startswith(prefix))


@pytest.mark.portable
def test_stream_gives_back_every_recording_of_a_split(corpus, packed):
    folder, index = packed
    assert index["records"] == 10 and len(index["shards"]) > 2  # small shards: several
    assert index["frames"] == sum(len(x) for x in corpus.features)
    for split in ("train", "dev"):
        for buckets in (1, 4):
            data = shards.stream(folder, split, batch_size=3, buckets=buckets, seed=1)
            assert _records(data) == _expected(corpus, split)


def test_buckets_pad_less_than_one_batch_of_everything(packed):
    folder, _ = packed
    padded = {b: sum(int(np.prod(x.shape[:2])) for x, _, _ in
                     shards.stream(folder, "train", batch_size=2, buckets=b, shuffle=False))
              for b in (1, 4)}
    real = sum(int(m.numpy().sum()) for _, _, m in shards.stream(folder, "train", batch_size=2))
    assert real == 30 + 31 + 45 + 60 + 61 + 90 + 120 + 121
    assert padded[4] < padded[1]
    # Batches are padded to their bucket's boundary: a model sees few shapes.
    lengths = {int(x.shape[1]) for _ in range(3)
               for x, _, _ in shards.stream(folder, "train", batch_size=2, buckets=4)}
    assert len(lengths) <= 4 and max(lengths) == 121


def test_workers_split_a_split_into_equal_disjoint_parts(corpus, packed):
    folder, _ = packed
    parts = [_records(shards.stream(folder, "train", batch_size=2, shuffle=False,
                                    workers=(2, w))) for w in range(2)]
    assert len(parts[0]) == len(parts[1]) == 4
    assert sorted(parts[0] + parts[1]) == _expected(corpus, "train")
    shapes = {tuple(x.shape) for w in range(2) for x, _, _ in
              shards.stream(folder, "train", batch_size=2, shuffle=False, workers=(2, w))}
    assert shapes == {(2, 121, 5)}  # every process steps on the same shapes
    with pytest.raises(shards.ShardError, match="fewer than one batch of 8"):
        shards.stream(folder, "train", batch_size=8, workers=(2, 0))


@pytest.mark.portable
def test_keras_fit_takes_the_stream(packed):
    folder, _ = packed
    model = zoo.get("gru_regressor", input_dim=5, outputs=2, units=4)
    model.compile(optimizer="adam", loss=zoo.losses.CCCLoss(),
                  weighted_metrics=[zoo.metrics.CCC()])
    history = model.fit(shards.stream(folder, "train", batch_size=4), epochs=2, verbose=0,
                        validation_data=shards.stream(folder, "dev", batch_size=4))
    assert np.isfinite(history.history["val_loss"]).all()


def test_class_packs_of_a_bundled_set(tmp_path):
    index = zoo.data.pack("BasicMotions", tmp_path / "bm")
    expected = zoo.data.load_uea("BasicMotions", "test")
    assert index["kind"] == "classes" and index["classes"] == list(expected.classes)
    batches = list(shards.stream(tmp_path / "bm", "test", batch_size=16))
    labels = np.concatenate([np.asarray(l) for _, l in batches])
    assert sorted(labels.tolist()) == sorted(expected.labels.tolist())
    sums = sorted(round(float(np.asarray(x).sum()), 2) for b, _ in batches for x in b)
    assert sums == sorted(round(float(s.sum()), 2) for s in expected.sequences)


def test_damaged_folders_are_named(packed, tmp_path):
    folder, _ = packed
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(shards.ShardError, match="empty is empty; write shards with"):
        shards.stream(empty)
    (empty / "notes.txt").write_text("not a pack")
    with pytest.raises(shards.ShardError, match="has no index.json and no shards"):
        shards.stream(empty)
    with pytest.raises(shards.ShardError, match="no such shard folder"):
        shards.stream(tmp_path / "missing")

    corrupt = tmp_path / "corrupt"
    shutil.copytree(folder, corrupt)
    shard = corrupt / "shard-00001.tfrecord"
    data = bytearray(shard.read_bytes())
    data[40] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(shards.ShardError, match="shard-00001.tfrecord: its sha256 differs"):
        shards.stream(corrupt)
    shard.write_bytes(bytes(data[:-10]))
    with pytest.raises(shards.ShardError, match="shard-00001.tfrecord: .* bytes where the index"):
        shards.stream(corrupt)

    mixed = tmp_path / "mixed"
    shutil.copytree(folder, mixed)
    other = tmp_path / "other"
    zoo.data.pack(recola_like(train=2, dev=1, length=50, input_dim=5, seed=3), other,
                shard_bytes=10**6)
    (mixed / "shard-00099.tfrecord").write_bytes((other / "shard-00000.tfrecord").read_bytes())
    with pytest.raises(shards.ShardError, match="shard-00099.tfrecord is not listed in "
                                                "index.json .* different packs are mixed"):
        shards.stream(mixed)

    old = tmp_path / "old"
    shutil.copytree(folder, old)
    index = json.loads((old / "index.json").read_text())
    (old / "index.json").write_text(json.dumps({**index, "version": 0}))
    with pytest.raises(shards.ShardError, match="format version 0; this zoo reads version 1"):
        shards.stream(old)
    (old / "index.json").write_text("{not json")
    with pytest.raises(shards.ShardError, match="index.json is not valid JSON"):
        shards.stream(old)
    with pytest.raises(shards.ShardError, match="holds no 'test' records; splits: "):
        shards.stream(folder, "test")


def test_pack_never_replaces_a_folder_unless_told(corpus, packed, tmp_path):
    folder, index = packed
    before = (folder / "index.json").read_text()
    with pytest.raises(shards.ShardError, match="exists and is not empty; pass --overwrite"):
        zoo.data.pack(corpus, folder)
    assert (folder / "index.json").read_text() == before
    with pytest.raises(shards.ShardError, match="not an AVEC-layout folder, a .ts or .txt file"):
        zoo.data.pack(str(tmp_path / "nowhere"), tmp_path / "out")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))


def test_cli_packs_checks_and_trains_on_shards(tmp_path, capsys, monkeypatch):
    from zoo import registry

    built, build = [], registry.build
    monkeypatch.setattr(registry, "build", lambda name, /, **s: built.append(s) or build(name, **s))
    data = tmp_path / "avec"
    zoo.data.save_avec(recola_like(train=3, dev=2, length=80, input_dim=4, seed=0), data)
    assert main(["data", "pack", str(data), "--out", str(tmp_path / "s")]) == 0
    assert "5 recordings (dev 2, train 3)" in capsys.readouterr().out
    assert main(["data", "info", str(tmp_path / "s")]) == 0
    assert "every shard matches its sha256" in capsys.readouterr().out
    with warnings.catch_warnings():
        # The held-out stream is sized: Keras has no reason to say it "ran out of data".
        warnings.filterwarnings("error", message=".*ran out of data")
        assert main(["train", "emotion_downup", "--data", f"shards:{tmp_path / 's'}",
                     "--epochs", "2", "--batch-size", "2", "--set", "filters=4", "--out",
                     str(tmp_path / "run"), "--quiet"]) == 0
    assert built == [{"input_dim": 4, "outputs": 2, "filters": 4}]  # once, sized by the pack
    summary = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert summary["validation"] == "dev" and "ccc" in summary["validation_scores"]
    assert len(summary["history"]["loss"]) == 2
    # Per dimension, every dev frame pooled, as the AVEC-folder path reports; and the plot.
    out = capsys.readouterr().out
    assert "dev scores (2 recordings, all frames pooled):" in out
    for dim in ("arousal", "valence"):
        assert re.search(rf"{dim} +CCC +-?\d\.\d{{3}} +RMSE \d\.\d{{3}}", out), out
    assert set(summary["dimension_scores"]) == {"ccc", "rmse"}
    assert (tmp_path / "run" / "predictions.png").stat().st_size > 1000
    # The scores are those of the model the run wrote, on the dev records.
    model = zoo.load_model(tmp_path / "run" / "model.keras")
    dev = zoo.data.load_avec(data).subset("dev")
    pooled = score_corpus(model, dev)
    for dim in ("arousal", "valence"):
        assert abs(pooled["ccc"][dim] - summary["dimension_scores"]["ccc"][dim]) < 1e-5
    for argv, message in [
        (["data", "pack", str(data), "--out", str(tmp_path / "s")], "exists and is not empty"),
        (["data", "info", str(tmp_path / "nope")], "no such shard folder"),
        (["train", "emotion_downup", "--data", str(data), "--devices", "2", "--out",
          str(tmp_path / "r2")], "--devices and --distributed stream the data from shards"),
        (["train", "emotion_downup", "--data", f"shards:{tmp_path / 's'}",
          "--batch-size", "2", "--devices", "x",
          "--out", str(tmp_path / "r3")], "--devices must be 'all' or a positive"),
        (["train", "emotion_downup", "--data", f"shards:{tmp_path / 's'}",
          "--batch-size", "2", "--devices", "64",
          "--out", str(tmp_path / "r4")], "64 devices asked for"),
        (["train", "emotion_downup", "--data", f"shards:{tmp_path / 's'}",
          "--batch-size", "2", "--distributed",
          "--out", str(tmp_path / "r5")], "KERAS_BACKEND=jax"),
    ]:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err


def test_a_text_packs_as_windows_of_character_ids(tmp_path, capsys):
    text = "".join(f"line {i}: the quick brown fox jumps over the lazy dog.\n"
                   for i in range(60))
    (tmp_path / "t.txt").write_text(text)
    index = zoo.data.pack(tmp_path / "t.txt", tmp_path / "s", window=50)
    assert index["kind"] == "tokens" and index["vocabulary"] == "".join(sorted(set(text)))
    lm = zoo.get("char_lm", vocabulary=index["vocabulary"], units=8, depth=1)
    windows, k = {}, 0
    for split in ("train", "dev"):
        for x, y in shards.stream(tmp_path / "s", split, batch_size=7, shuffle=False):
            x, y = np.asarray(x), np.asarray(y)
            assert x.shape[1] == 50 and x.dtype == np.int32
            np.testing.assert_array_equal(x[:, 1:], y[:, :-1])  # y is x shifted by one
            for row_x, row_y in zip(x, y):
                windows[split] = windows.get(split, "") + lm.decode(row_x)
                assert lm.decode(row_y) == text[50 * k + 1 : 50 * k + 51]
                k += 1
    count = (len(text) - 1) // 50
    assert len(windows["dev"]) == 50 * round(count * 0.1)
    assert windows["train"] + windows["dev"] == text[: 50 * count]  # in order, dev at the end
    assert main(["train", "char_lm", "--data", f"shards:{tmp_path / 's'}", "--epochs", "1",
                 "--batch-size", "8", "--set", "units=8", "--set", "depth=1", "--out",
                 str(tmp_path / "run"), "--quiet"]) == 0
    assert "dev accuracy" in capsys.readouterr().out
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9")
    with pytest.raises(shards.ShardError, match="bad.txt: not UTF-8 text"):
        zoo.data.pack(tmp_path / "bad.txt", tmp_path / "s2")


def test_an_avec_folder_packs_one_recording_at_a_time_as_load_avec_reads_it(tmp_path):
    zoo.data.save_avec(recola_like(train=3, dev=2, length=60, input_dim=4, seed=1),
                       tmp_path / "avec")
    corpus = zoo.data.load_avec(tmp_path / "avec")  # z-normalised per recording
    zoo.data.pack(tmp_path / "avec", tmp_path / "s")
    for split in ("train", "dev"):
        assert _records(shards.stream(tmp_path / "s", split, batch_size=2)) == _expected(
            corpus, split)


def test_overwrite_replaces_an_earlier_pack_and_nothing_else(corpus, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    with pytest.raises(shards.ShardError, match="is not an earlier pack .*notes.txt.* never "
                                                "other files"):
        zoo.data.pack(corpus, mine, overwrite=True)
    assert (mine / "notes.txt").read_text() == "precious"
    zoo.data.save_avec(recola_like(train=2, dev=1, length=40, input_dim=3, seed=0),
                       tmp_path / "avec")
    for out in (tmp_path / "avec", tmp_path):
        with pytest.raises(shards.ShardError):
            zoo.data.pack(tmp_path / "avec", out, overwrite=True)
    assert len(list((tmp_path / "avec" / "features").iterdir())) == 3
    zoo.data.pack(corpus, tmp_path / "s")
    zoo.data.pack(corpus, tmp_path / "s", overwrite=True)  # an earlier pack is replaced


def test_pack_refuses_recordings_training_could_not_use(tmp_path):
    good = np.ones((5, 2), "float32")
    bad = good.copy()
    bad[3, 1] = np.nan
    for features, labels, message in [
            ([good, bad], [good, good], "'train_1': NaN or inf in its features at frame 3"),
            ([good, good], [good, bad], "'train_1': NaN or inf in its labels at frame 3"),
            ([good, good[:0]], [good, good[:0]], "'train_1' is empty"),
            ([good, good], [good, good[:4]], "'train_1': 5 feature frames but 4 label")]:
        corpus = zoo.data.Corpus(["train_0", "train_1"], features, labels)
        with pytest.raises(shards.ShardError, match=message):
            zoo.data.pack(corpus, tmp_path / "s")
        assert not (tmp_path / "s").exists() and not list(tmp_path.glob(".s.*"))


def test_hostile_or_damaged_indexes_are_refused_before_any_shard_is_read(packed, tmp_path):
    folder, index = packed
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    first = index["shards"][0]
    for bad, message in [
            ({**index, "shards": [{**first, "file": "../../etc/passwd"}]}, "entry 0 is damaged"),
            ({**index, "shards": [{"file": first["file"]}]}, "entry 0 is damaged"),
            ({**index, "shards": "x"}, '"shards" is missing or not a valid list'),
            ({**index, "input_dim": "5"}, '"input_dim" is missing or not a valid int'),
            ({**index, "kind": "pickle"}, "unknown kind 'pickle'")]:
        (copy / "index.json").write_text(json.dumps(bad))
        with pytest.raises(shards.ShardError, match=message):
            shards.read_index(copy)


def test_a_pack_of_another_kind_names_both_kinds_and_the_models_that_fit(tmp_path, capsys):
    zoo.data.pack("BasicMotions", tmp_path / "bm")
    code = main(["train", "emotion_downup", "--data", f"shards:{tmp_path / 'bm'}", "--out",
                 str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert ("emotion_downup takes frame-labelled recordings" in err and "holds sequences with "
            "one class each" in err and "gru_classifier" in err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bm"]


def test_a_batch_that_leaves_a_process_without_one_is_refused_before_the_processes_meet():
    from zoo.recipes.shards import check_workers

    index = {"shards": [{"records": 6, "splits": {"train": 6}}]}
    check_workers(index, "P", 4, 1)  # one process: check_batch's business
    check_workers(index, "P", 6, 2)
    with pytest.raises(shards.ShardError, match=r"the 6 'train' records of P give each of 2 "
                                                r"processes 3, fewer than its batch of 4 .*"
                                                r"pass at most 6"):
        check_workers(index, "P", 8, 2)
    with pytest.raises(shards.ShardError, match="does not divide among 2 processes"):
        check_workers(index, "P", 5, 2)
