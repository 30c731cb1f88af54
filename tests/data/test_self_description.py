"""Files that describe themselves wrongly: every reader checks what a file says about itself
against what it holds, before anything is trained or written (shard indexes against their
records, converted npz sets against their classes and lengths, AVEC folders and `.ts`
files against what training needs, `--set` values against the settings' kinds)."""

import hashlib
import json
import shutil

import numpy as np
import pytest

import zoo
from zoo.cli import main
from zoo.data import records, shards
from zoo.data.packing import _example


def _forge(folder, index, rows):
    """A one-shard pack whose index is `index` (updated with the shard's true bytes and
    sha256, as a careless writer that computed those would) and whose records are `rows`:
    dicts for `_record`."""
    import tensorflow as tf

    folder.mkdir(parents=True)
    path = folder / "shard-00000.tfrecord"
    with tf.io.TFRecordWriter(str(path)) as writer:
        for row in rows:
            writer.write(_record(**row))
    data = path.read_bytes()
    index = json.loads(json.dumps(index))
    index["shards"] = [{**index["shards"][0], "bytes": len(data),
                        "sha256": hashlib.sha256(data).hexdigest()}]
    (folder / "index.json").write_text(json.dumps(index))
    return folder


def _record(split="train", name="train_0", x=None, y=None, label=None, length=None):
    serialized = _example(split, name, x, y, label)
    if length is None:
        return serialized
    import tensorflow as tf

    example = tf.train.Example.FromString(serialized)
    example.features.feature["length"].int64_list.value[:] = [length]
    return example.SerializeToString()


def _frames(width=4, length=6, seed=0):
    return np.random.default_rng(seed).normal(size=(length, width)).astype("float32")


def _frame_index(**changes):
    index = {"format": "zoo-shards", "version": 1, "pack": "f" * 32, "kind": "frames",
             "input_dim": 4, "dimensions": ["arousal", "valence"], "records": 3,
             "frames": 18, "length_quantiles": [6] * 11,
             "shards": [{"file": "shard-00000.tfrecord", "records": 3, "frames": 18,
                         "splits": {"train": 2, "dev": 1}}]}
    index.update(changes)
    return index


def _frame_rows(**changes_of_row):
    rows = [dict(split=s, name=f"{s}_{i}", x=_frames(seed=i), y=_frames(2, seed=i + 9))
            for i, s in enumerate(["train", "train", "dev"])]
    for number, change in changes_of_row.items():
        rows[int(number[1:])].update(change)
    return rows


def _assert_refused(folder, argv_tail, message, tmp_path, capsys):
    """`zoo train` on the pack: exit 2, one line naming the file and field, nothing written."""
    out = tmp_path / "run"
    code = main(["train", "emotion_downup", "--data", f"shards:{folder}", "--epochs", "1",
                 "--batch-size", "1", "--set", "filters=2", "--set", "stages=1", "--out",
                 str(out), "--quiet", *argv_tail])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not out.exists() and not list(tmp_path.glob(".run*")), list(tmp_path.iterdir())


@pytest.mark.parametrize("index_changes, row_changes, message", [
    ({"input_dim": 8}, {}, "record 0 ('train_0'): 'x' holds 24 values, not 'length' 6 x "
                           "'input_dim' 8"),
    ({"input_dim": 5}, {}, "'x' holds 24 values, not 'length' 6 x 'input_dim' 5"),
    ({"dimensions": ["a", "b", "c", "d"]}, {}, "'y' holds 12 values, not 'length' 6 x 4 "
                                               "'dimensions'"),
    ({}, {"r0": {"length": -5}}, "record 0 ('train_0'): 'length' is -5"),
    ({"shards": [{"file": "shard-00000.tfrecord", "records": 3, "frames": 18,
                  "splits": {"train": 3}}]}, {},
     "split 'dev', where the index lists ['train']"),
])
def test_an_index_that_misdescribes_its_first_records_is_refused_at_open(
        tmp_path, capsys, index_changes, row_changes, message):
    rows = _frame_rows(**row_changes)
    if "splits" in str(index_changes):  # every record says dev; the index says train
        rows = [{**row, "split": "dev"} for row in rows]
    folder = _forge(tmp_path / "pack", _frame_index(**index_changes), rows)
    with pytest.raises(shards.ShardError, match="shard-00000.tfrecord, record 0") as error:
        shards.read_index(folder)
    assert message in str(error.value)
    with pytest.raises(shards.ShardError, match="shard-00000.tfrecord"):
        shards.stream(folder)
    _assert_refused(folder, [], message, tmp_path, capsys)


def test_a_later_record_that_disagrees_stops_the_stream_naming_shard_record_and_field(
        tmp_path, capsys):
    rows = _frame_rows(r2={"x": _frames(width=3, length=8)})  # 24 values still
    folder = _forge(tmp_path / "pack", _frame_index(), rows)
    shards.read_index(folder)  # the first record agrees
    index = shards.read_index(folder)
    with pytest.raises(Exception, match=records.MARKER):
        list(shards.stream(folder, "dev", batch_size=1))
    with pytest.raises(shards.ShardError) as error, records.named_mismatches(folder, index):
        list(shards.stream(folder, "dev", batch_size=1))
    assert ("shard-00000.tfrecord, record 2 ('dev_2'): 'x' holds 24 values, not 'length' 8 x "
            "'input_dim' 4") in str(error.value)
    assert len(list(shards.stream(folder, "dev", batch_size=1, check=False))) == 1  # opt-out
    _assert_refused(folder, [], "record 2 ('dev_2'): 'x' holds 24 values", tmp_path, capsys)


def test_a_later_record_with_labels_of_another_width_is_named_too(tmp_path):
    rows = _frame_rows(r1={"y": np.ones((5, 3), "float32")})  # 15 values: no 2-wide reshape
    folder = _forge(tmp_path / "pack", _frame_index(), rows)
    index = shards.read_index(folder)
    with pytest.raises(shards.ShardError) as error, records.named_mismatches(folder, index):
        list(shards.stream(folder, "train", batch_size=2))
    assert "record 1 ('train_1'): 'y' holds 15 values, not 'length' 6 x 2" in str(error.value)


def test_class_and_token_records_out_of_their_index_range_are_refused(tmp_path):
    x = _frames(3, 5)
    index = {"format": "zoo-shards", "version": 1, "pack": "c" * 32, "kind": "classes",
             "input_dim": 3, "classes": [str(c) for c in range(6)], "records": 2,
             "frames": 10, "length_quantiles": [5] * 11,
             "shards": [{"file": "shard-00000.tfrecord", "records": 2, "frames": 10,
                         "splits": {"train": 2}}]}
    rows = [dict(name="train_0", x=x, label=1), dict(name="train_1", x=x, label=42)]
    folder = _forge(tmp_path / "classes", index, rows)
    with pytest.raises(Exception, match=records.MARKER):
        list(shards.stream(folder, "train", batch_size=2))
    mismatch = records.find_mismatch(folder, shards.read_index(folder))
    assert "record 1 ('train_1'): 'label' is 42, outside the index's 6 classes" in str(mismatch)
    tokens = {"format": "zoo-shards", "version": 1, "pack": "t" * 32, "kind": "tokens",
              "input_dim": 1, "vocabulary": "ab", "window": 3, "records": 1, "frames": 4,
              "length_quantiles": [4] * 11,
              "shards": [{"file": "shard-00000.tfrecord", "records": 1, "frames": 4,
                          "splits": {"train": 1}}]}
    folder = _forge(tmp_path / "tokens", tokens,
                    [dict(name="w", x=np.array([1, 2, 7, 1], "int32"))])
    with pytest.raises(shards.ShardError, match="'x' holds the id 7, outside the index's "
                                                "vocabulary of 2"):
        shards.read_index(folder)


def test_index_counts_that_disagree_are_refused(tmp_path):
    rows = _frame_rows()
    for changes, message in [
            ({"records": 4}, '"records" is 4 but its shards add up to 3'),
            ({"frames": 17}, '"frames" is 17 but its shards add up to 18'),
            ({"shards": [{"file": "shard-00000.tfrecord", "records": 3, "frames": 18,
                          "splits": {"train": 1}}]}, "which disagree"),
            ({"dimensions": [1, 2]}, '"dimensions" must be a list of names')]:
        folder = tmp_path / f"pack{len(list(tmp_path.iterdir()))}"
        _forge(folder, _frame_index(**changes), rows)
        with pytest.raises(shards.ShardError, match=message.replace("[", r"\[")):
            shards.read_index(folder)


def test_a_batch_larger_than_the_train_split_is_refused_before_anything_is_written(
        tmp_path, capsys):
    folder = _forge(tmp_path / "pack", _frame_index(), _frame_rows())
    out = tmp_path / "run"
    code = main(["train", "emotion_downup", "--data", f"shards:{folder}", "--batch-size",
                 "1000000", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "batch size 1000000 is larger than the 2 'train' records" in err
    assert err.count("\n") == 1 and not list(tmp_path.glob("*run*"))


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATA", str(tmp_path))
    return tmp_path


def _hapt(home, **changes):
    arrays = dict(frames=np.ones((600, 6), "float32"), lengths=np.full(6, 100),
                  labels=np.arange(6), subjects=np.arange(1, 7),
                  classes=np.array([f"c{i}" for i in range(12)]))
    arrays.update(changes)
    np.savez(home / "hapt_segments.npz", **arrays)


@pytest.mark.parametrize("changes, message", [
    ({"labels": np.array([0, 1, 2, 3, 4, 42])}, "'labels'[5] is 42, outside the 12 classes"),
    ({"lengths": np.array([200, -100, 100, 100, 100, 200])},
     "'lengths'[1] is -100; every sequence holds at least 1 frame"),
    ({"frames": np.ones(600, "float32")}, "'frames' must be a 2-D array"),
    ({"classes": np.array(["a", "b"])}, "'labels'[2] is 2, outside the 2 classes"),
    ({"labels": np.zeros(6, int), "classes": np.array(["a", "b"])},
     "2 class names, fewer than the 6 activities asked for"),
    ({"subjects": np.ones(6, int)}, "the test split of seed 0 is empty"),
])
def test_converted_sets_that_disagree_with_themselves_are_refused(data_home, changes,
                                                                 message):
    _hapt(data_home, **changes)
    with pytest.raises(ValueError, match="hapt_segments.npz") as error:
        zoo.data.load_hapt("test")
    assert message in str(error.value)


def test_spoken_digits_with_labels_past_ten_or_an_empty_split_are_refused(data_home):
    np.savez(data_home / "spoken_digits.npz", frames=np.ones((20, 13), "float32"),
             lengths=np.full(4, 5), labels=np.array([0, 1, 2, 10]))
    with pytest.raises(ValueError, match=r"'labels'\[3\] is 10, outside the 10 classes"):
        zoo.data.load_spoken_digits()
    np.savez(data_home / "spoken_digits.npz", frames=np.ones((20, 13), "float32"),
             lengths=np.full(4, 5), labels=np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="the test split of seed 0 is empty"):
        zoo.data.load_spoken_digits("test")  # one recording a digit: none held out


def _avec(root, names, length=5, features=2, header=None):
    from zoo.data.synthetic import recola_like

    corpus = recola_like(train=1, dev=0, length=length, input_dim=max(features, 2), seed=0)
    x, y = corpus.features[0], corpus.labels[0]
    for name in names:
        (root / "features").mkdir(parents=True, exist_ok=True)
        (root / "labels").mkdir(parents=True, exist_ok=True)
        times = np.arange(length) * 0.04
        columns = ["frameTime"] + [f"f{j}" for j in range(features)]
        lines = [header or ";".join(columns)] + [
            ";".join(f"{v:g}" for v in [t, *x[i, :features]]) for i, t in enumerate(times)]
        (root / "features" / f"{name}.csv").write_text("\n".join(lines) + "\n")
        lines = ["frameTime;arousal;valence"] + [
            f"{t:g};{y[i, 0]:g};{y[i, 1]:g}" for i, t in enumerate(times)]
        (root / "labels" / f"{name}.csv").write_text("\n".join(lines) + "\n")
    return root


@pytest.mark.parametrize("names, kwargs, message", [
    (["dev_1", "dev_2"], {}, "no train_ recordings among its 2 (dev_1, dev_2)"),
    (["train_1", "train_2"], {}, "no dev_ recordings among its 2"),
    (["train_1", "dev_1"], {"length": 1}, "dev_1.csv holds 1 frame(s); a recording needs "
                                          "at least 2"),
    (["train_1", "dev_1"], {"features": 0}, "no feature columns besides the time column"),
    (["train_1", "dev_1"], {"header": "frameTime;" + "f" * 2_000_000},
     "line 1: longer than 1,048,576 characters"),
])
def test_avec_folders_training_cannot_use_are_refused_by_pack_and_train(
        tmp_path, capsys, names, kwargs, message):
    folder = _avec(tmp_path / "avec", names, **kwargs)
    for argv in (["data", "pack", str(folder), "--out", str(tmp_path / "s")],
                 ["train", "emotion_downup", "--data", str(folder), "--epochs", "1",
                  "--out", str(tmp_path / "run")]):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and message in err, (argv, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["avec"]  # nothing written


def test_ts_files_with_unequal_channels_are_refused_naming_the_line(tmp_path, capsys):
    path = tmp_path / "bad.ts"
    path.write_text("@problemName t\n@classLabel true a b\n@data\n"
                    "1,2,3:4,5,6:a\n1,2,3:4,5:b\n")
    code = main(["data", "pack", str(path), "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2 and "bad.ts, line 5: channels have different lengths [3, 2]" in err
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("setting, message", [
    ("causal=maybe", "`causal` takes true or false (or 1 or 0); its default is False. "
                     "Received: causal='maybe'"),
    ("depth=2.5", "`depth` takes a whole number; its default is 10. Received: depth=2.5"),
    ("dropout=high", "`dropout` takes a number"),
    ("activation=3", "`activation` takes a name (a string)"),
])
def test_set_values_are_typed_from_the_model_signature(tmp_path, capsys, setting, message):
    folder = _avec(tmp_path / "avec", ["train_1", "dev_1"], length=8)
    code = main(["train", "emotion_dilated", "--data", str(folder), "--epochs", "1", "--set",
                 setting, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "run").exists()
    with pytest.raises(TypeError, match="EmotionDilated: `"):
        key, value = setting.split("=")
        zoo.get("emotion_dilated", **{key: json.loads(value) if value[0] in "0123456789"
                                      else value})


def test_settings_of_the_right_kind_still_pass():
    for settings in ({"causal": True}, {"causal": 1}, {"causal": np.bool_(False)},
                     {"dropout": 0}, {"depth": 2}, {"activation": "tanh"}):
        zoo.get("emotion_dilated", input_dim=3, outputs=1, filters=2, **settings)


def test_a_shard_folder_copied_from_a_real_pack_still_streams(tmp_path):
    corpus = zoo.data.Corpus(["train_0", "dev_0"], [_frames(), _frames(seed=1)],
                             [_frames(2), _frames(2, seed=1)])
    zoo.data.pack(corpus, tmp_path / "s")
    shutil.copytree(tmp_path / "s", tmp_path / "copy")
    assert shards.read_index(tmp_path / "copy")["records"] == 2
    assert records.find_mismatch(tmp_path / "copy", shards.read_index(tmp_path / "copy")) is None


def test_a_record_length_past_the_end_of_its_shard_is_refused_before_it_is_read(tmp_path):
    folder = _forge(tmp_path / "pack", _frame_index(), _frame_rows())
    shard = folder / "shard-00000.tfrecord"
    data = bytearray(shard.read_bytes())
    data[:8] = (2**62).to_bytes(8, "little")  # a hostile length: no 4 EiB read is tried
    shard.write_bytes(bytes(data))
    index = json.loads((folder / "index.json").read_text())
    index["shards"][0].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (folder / "index.json").write_text(json.dumps(index))
    with pytest.raises(shards.ShardError, match="record 0 is cut short or its length is "
                                                "damaged"):
        shards.read_index(folder)
