import io

import numpy as np
import pytest

import zoo
from zoo.data import load_uea, read_ts

SMALL = """# a comment
@problemName Tiny
@univariate false
@classLabel true up down
@data
1,2,3:4,5,6:up
7,8:9,10:down
"""


def test_reads_variable_length_multichannel_cases():
    data = read_ts(io.StringIO(SMALL))
    assert data.name == "Tiny" and data.classes == ("up", "down")
    np.testing.assert_array_equal(data.labels, [0, 1])
    np.testing.assert_array_equal(data.sequences[0], [[1, 4], [2, 5], [3, 6]])
    x, mask = data.padded()
    assert x.shape == (2, 3, 2)
    np.testing.assert_array_equal(mask, [[1, 1, 1], [1, 1, 0]])
    np.testing.assert_array_equal(x[1, 2], [0, 0])


@pytest.mark.parametrize(
    "text, message",
    [
        (SMALL.replace("7,8:9,10:down", "7,8:9:down"), "line 7: channels have different lengths"),
        (SMALL.replace("7,8:9,10:down", "7,8:9,10:left"), "line 7: class 'left'"),
        (SMALL.replace("7,8:9,10:down", "7,x:9,10:down"), "line 7: could not convert"),
        (SMALL.replace("7,8:9,10:down", "7,8:down"), "line 7: 1 channels, earlier cases have 2"),
        (SMALL.split("@data")[0] + "@data\n", "no cases"),
    ],
)
def test_malformed_files_name_the_line(text, message):
    with pytest.raises(ValueError, match=message):
        read_ts(io.StringIO(text), "tiny.ts")


@pytest.mark.parametrize(
    "name, split, cases, channels, classes",
    [
        ("BasicMotions", "train", 40, 6, 4),
        ("BasicMotions", "test", 40, 6, 4),
        ("JapaneseVowels", "train", 270, 12, 9),
        ("JapaneseVowels", "test", 370, 12, 9),
        ("PickupGestureWiimoteZ", "train", 50, 1, 10),
    ],
)
def test_bundled_sets_match_their_documented_sizes(name, split, cases, channels, classes):
    data = load_uea(name, split)
    assert len(data) == cases and data.channels == channels and len(data.classes) == classes
    assert all(np.isfinite(s).all() for s in data.sequences)


def test_standardize_with_training_statistics():
    train = load_uea("JapaneseVowels", "train")
    mean, std = train.statistics()
    scaled = train.standardized(mean, std)
    frames = np.concatenate(scaled.sequences)
    np.testing.assert_allclose(frames.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(frames.std(0), 1, atol=1e-4)


def test_unknown_set_or_split():
    with pytest.raises(ValueError, match="Available: BasicMotions"):
        load_uea("Iris")
    with pytest.raises(ValueError, match="split"):
        zoo.data.load_uea("BasicMotions", "validation")


def test_vader_movie_snippets_are_bundled_and_split_reproducibly():
    data = zoo.data.load_vader_movies()
    assert len(data) == 10605
    assert data.texts[2] == "Effective but too tepid biopic"
    assert data.scores[2] == pytest.approx(-0.6)
    assert -4 <= data.scores.min() < 0 < data.scores.max() <= 4
    train, dev, test = data.split(seed=0)
    assert (len(train), len(dev), len(test)) == (8484, 1060, 1061)
    again = data.split(seed=0)[2]
    assert list(again.texts[:5]) == list(test.texts[:5])
    with pytest.raises(ValueError, match="three shares"):
        data.split((0.5, 0.5))


def test_truncated_or_damaged_gz_files_are_named(tmp_path):
    import gzip

    from zoo.data import read_ts

    good = gzip.compress(b"@problemName x\n@classLabel true a b\n@data\n1,2,3:a\n" * 50)
    (tmp_path / "cut.ts.gz").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="cut.ts.gz is truncated"):
        read_ts(tmp_path / "cut.ts.gz")
    (tmp_path / "junk.ts.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="junk.ts.gz is truncated or not gzip"):
        read_ts(tmp_path / "junk.ts.gz")


def test_cli_recognize_reports_a_truncated_ts_gz_in_one_line(tmp_path, capsys):
    import gzip

    from zoo.cli import main

    good = gzip.compress(b"@problemName x\n@classLabel true a b\n@data\n1,2,3:a\n" * 50)
    (tmp_path / "cut.ts.gz").write_bytes(good[: len(good) // 2])
    model = tmp_path / "m.keras"
    model.write_bytes(b"")
    import zoo

    rnnpb = zoo.get("rnnpb", units=4)
    rnnpb.build((2, None, 3))
    rnnpb.save(model)
    assert main(["recognize", str(model), "--data", str(tmp_path / "cut.ts.gz"),
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "cut.ts.gz is truncated" in err and err.count("\n") == 1
