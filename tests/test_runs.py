"""`zoo train` never loses work: arguments checked first, runs published whole, one writer
per --out, a checkpoint per epoch, --resume after SIGKILL, NaN stops with the last good
checkpoint kept, and metrics.json always valid JSON."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from zoo.cli import main
from zoo.data import save_avec
from zoo.data.synthetic import recola_like
from zoo.recipes.runs import EpochCheckpoint, RunError, RunFolder, resume_state


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("avec")
    save_avec(recola_like(train=2, dev=2, length=200, input_dim=6, seed=0), path)
    return path


@pytest.fixture(scope="module")
def long(tmp_path_factory):
    """Recordings long enough that an epoch takes a moment (to be killed in)."""
    path = tmp_path_factory.mktemp("avec_long")
    save_avec(recola_like(train=3, dev=1, length=20000, input_dim=6, seed=1), path)
    return path


def train(data, out, *extra, small=True):
    sets = ["--set", "filters=4", "--set", "stages=2"] if small else []
    return ["train", "emotion_downup", "--data", str(data), "--out", str(out), *sets, *extra]


def _weights(folder):
    model = keras.models.load_model(Path(folder) / "model.keras")
    return [np.asarray(w) for w in model.get_weights()]


def _one_line_error(capsys, text):
    err = capsys.readouterr().err
    assert text in err, err
    assert err.count("\n") == 1 and "Traceback" not in err, err


@pytest.mark.parametrize("extra, text", [
    (["--epochs", "0"], "--epochs: must be at least 1"),
    (["--epochs", "-1"], "--epochs: must be at least 1"),
    (["--lr", "nan"], "--lr: must be a finite number > 0"),
    (["--lr", "0"], "--lr: must be a finite number > 0"),
    (["--set", "filter=3"], "did you mean 'filters'"),
    (["--set", "filters=abc"], "filters"),
    (["--set", "dropout=2"], "`dropout` must be in [0, 1)"),
    (["--set", "=3"], "--set: expects KEY=VALUE"),
])
def test_bad_arguments_fail_before_any_work_and_touch_nothing(small, tmp_path, capsys, extra,
                                                                text):
    out = tmp_path / "run"  # an earlier run's results, which --overwrite may replace
    out.mkdir()
    (out / "model.keras").write_text("my trained model")
    (out / "run.json").write_text("{}")
    assert main(train(small, out, "--epochs", "1") + extra + ["--overwrite"]) == 2
    _one_line_error(capsys, text)
    assert (out / "model.keras").read_text() == "my trained model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # nothing staged


def test_unusable_out_is_refused_before_training(small, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(train(small, blocker, "--epochs", "1")) == 2
    _one_line_error(capsys, "is a file")
    assert main(train(small, blocker / "below", "--epochs", "1")) == 2
    _one_line_error(capsys, "cannot be created")


def test_a_second_run_into_the_same_out_needs_overwrite(small, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(train(small, out, "--epochs", "1")) == 0
    first = (out / "model.keras").read_bytes()
    assert main(train(small, out, "--epochs", "2")) == 2
    _one_line_error(capsys, "exists and is not empty; pass --overwrite")
    assert (out / "model.keras").read_bytes() == first
    assert main(train(small, out, "--epochs", "2", "--overwrite")) == 0
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging left behind
    assert main(train(small, out, "--epochs", "2", "--resume")) == 2
    _one_line_error(capsys, "Nothing to resume")


def test_recipes_refuse_settings_they_would_ignore(tmp_path, capsys):
    # (A classifier's recipe on a UEA set takes them: it is then a run on that set, with
    # them; tests/test_cli.py.)
    assert main(["train", "char_lm", "--data", "shakespeare", "--out",
                 str(tmp_path / "o"), "--set", "units=8"]) == 2
    _one_line_error(capsys, "--set: the recipe char_lm --data shakespeare has fixed")
    assert main(["train", "rnnpb", "--data", "BasicMotions", "--out",
                 str(tmp_path / "o"), "--epochs", "3"]) == 2
    _one_line_error(capsys, "--epochs: the recipe rnnpb --data BasicMotions has fixed")
    assert not (tmp_path / "o").exists()


def _start(data, out, *extra):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen([sys.executable, "-m", "zoo.cli", *train(data, out, *extra,
                                                                     small=False)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for(predicate, process, timeout=300):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_sigkill_then_resume_matches_an_uninterrupted_run_and_one_writer_at_a_time(long,
                                                                                  tmp_path):
    out, reference = tmp_path / "run", tmp_path / "reference"
    args = ("--epochs", "30", "--seed", "3")
    state = tmp_path / ".run.partial" / "checkpoint" / "state.json"
    first = _start(long, out, *args)
    try:
        _wait_for(lambda: state.exists() and json.loads(state.read_text())["epochs_done"] >= 2,
                  first)
        first.send_signal(signal.SIGSTOP)  # alive, holding the lock, somewhere in an epoch
        second = subprocess.run(
            [sys.executable, "-m", "zoo.cli", *train(long, out, *args, "--overwrite",
                                                     small=False)],
            capture_output=True, text=True, timeout=300)
        assert second.returncode == 2
        assert "Another zoo train is writing into" in second.stderr
        assert second.stderr.strip().splitlines()[-1].startswith("zoo: ")
        assert "Traceback" not in second.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    assert not out.exists()
    done = json.loads(state.read_text())["epochs_done"]
    assert 2 <= done < 30
    resumed = subprocess.run(
        [sys.executable, "-m", "zoo.cli", *train(long, out, *args, "--resume", small=False)],
        capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["resumed_at_epoch"] == done
    assert len(metrics["history"]["loss"]) == 30
    assert main(train(long, reference, *args, small=False)) == 0
    want = json.loads((reference / "metrics.json").read_text())
    np.testing.assert_allclose(metrics["history"]["loss"], want["history"]["loss"], rtol=1e-4)
    for got, expected in zip(_weights(out), _weights(reference)):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert not (tmp_path / ".run.partial").exists()


def test_a_run_builds_its_model_once_and_a_resumed_run_not_at_all(small, tmp_path,
                                                                   monkeypatch, capsys):
    from zoo import registry

    built, build = [], registry.build

    def counted(name, /, **settings):
        built.append(settings)
        return build(name, **settings)

    monkeypatch.setattr(registry, "build", counted)
    end_of_epoch = EpochCheckpoint.on_epoch_end

    def interrupt_after_the_first(self, epoch, logs=None):
        end_of_epoch(self, epoch, logs)
        if epoch == 0:
            raise KeyboardInterrupt

    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(EpochCheckpoint, "on_epoch_end", interrupt_after_the_first)
        assert main(train(small, out, "--epochs", "2")) == 130
    assert built == [{"input_dim": 6, "outputs": 2, "filters": 4, "stages": 2}]
    assert main(train(small, out, "--epochs", "2", "--resume")) == 0
    assert len(built) == 1  # the checkpoint's model, read back
    assert json.loads((out / "metrics.json").read_text())["resumed_at_epoch"] == 1


def test_resume_refuses_other_settings(small, tmp_path, capsys):
    out = tmp_path / "run"
    folder = RunFolder(out, {"epochs": 3})
    with folder:
        pass  # staged, as an interrupted run leaves it
    assert main(train(small, out, "--epochs", "3")) == 2
    _one_line_error(capsys, "add --resume to continue it, or --overwrite")
    with pytest.raises(RunError, match="--resume needs the interrupted run's settings"):
        RunFolder(out, {"epochs": 4}, resume=True).check()


def test_nan_loss_stops_keeps_the_last_good_checkpoint_and_json_stays_valid(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 5, 2)).astype("float32"), rng.normal(size=(8, 5, 1))
    inputs = keras.Input((None, 2))
    model = keras.Model(inputs, keras.layers.Dense(1, name="d")(inputs))
    model.compile("adam", "mse")

    class Poison(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                kernel = self.model.get_layer("d").kernel
                kernel.assign(np.full(kernel.shape, np.nan, "float32"))

    saver = EpochCheckpoint(tmp_path, monitor="loss")
    model.fit(x, y, epochs=5, batch_size=4, verbose=0, callbacks=[Poison(), saver])
    assert saver.diverged and "epoch 3" in saver.diverged
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["epochs_done"] == 2
    kept, _ = resume_state(tmp_path)
    assert all(np.isfinite(w).all() for w in kept.get_weights())
    from zoo.recipes.runs import write_json

    write_json(tmp_path / "m.json", {"loss": float("nan"), "x": [np.float32("inf"), 1.0]})
    assert json.loads((tmp_path / "m.json").read_text()) == {"loss": None, "x": [None, 1.0]}


def test_cli_reports_a_diverged_run_in_one_line(small, tmp_path, capsys, monkeypatch):
    import zoo.recipes.avec
    from zoo.recipes.runs import TrainingDiverged

    def diverge(*args, **kwargs):
        raise TrainingDiverged("Training stopped at epoch 2: the training loss became nan")

    monkeypatch.setattr("zoo.cli.train.train_on_corpus", diverge)
    assert main(train(small, tmp_path / "run", "--epochs", "3")) == 2
    _one_line_error(capsys, "the training loss became nan")
    assert not (tmp_path / "run").exists()
    assert zoo.recipes.avec is not None


def test_train_help_describes_resume_overwrite_and_the_trust_list(capsys):
    with pytest.raises(SystemExit) as done:
        main(["train", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for phrase in ("--resume", "--overwrite", "trust list", "ZOO_TRUSTED_HUB", "--trust-hub",
                   "(default: 30)", "(default: 0.001)"):
        assert phrase in text, phrase


def test_ctrl_c_keeps_the_checkpoint_and_says_how_to_resume(long, tmp_path):
    out = tmp_path / "run"
    state = tmp_path / ".run.partial" / "checkpoint" / "state.json"
    process = _start(long, out, "--epochs", "50")
    try:
        _wait_for(lambda: state.exists(), process)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130
    last = err.strip().splitlines()[-1]
    assert last.startswith("zoo: interrupted") and "--resume" in last
    assert "Traceback" not in err
    assert json.loads(state.read_text())["epochs_done"] >= 1
    assert not out.exists()


def test_a_failed_recipe_run_leaves_nothing_staged(tmp_path, monkeypatch, capsys):
    from zoo import recipes

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(recipes, "run", fail)
    out = tmp_path / "run"
    assert main(["train", "rnnpb", "--data", "BasicMotions", "--out", str(out)]) == 130
    assert capsys.readouterr().err.startswith("zoo: interrupted")
    assert list(tmp_path.iterdir()) == []
    assert main(["train", "rnnpb", "--data", "BasicMotions", "--out", str(out),
                 "--resume"]) == 2
    _one_line_error(capsys, "--resume: the recipe rnnpb --data BasicMotions runs start to end")
    # A resumable recipe stopped before its first checkpoint has nothing to resume: it
    # leaves nothing behind either, and says so (a kept staging folder would refuse the
    # next run until --overwrite).
    assert main(["train", "char_lm", "--data", "shakespeare", "--out", str(out)]) == 130
    _one_line_error(capsys, "interrupted before the first epoch ended; nothing was kept")
    assert list(tmp_path.iterdir()) == []


def test_overwrite_never_replaces_a_folder_of_other_files(small, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    assert main(train(small, out, "--epochs", "1", "--overwrite")) == 2
    _one_line_error(capsys, "it holds thesis.tex, which zoo did not write there")
    assert (out / "thesis.tex").read_text() == "years of work"


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_fit_resumable_continues_where_it_stopped(tmp_path, dropout):
    from zoo.recipes.runs import array_batches, fit_resumable

    rng = np.random.default_rng(0)
    x = rng.normal(size=(37, 4)).astype("float32")
    y = (x @ rng.normal(size=(4, 1))).astype("float32")

    def build():
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh"),
                                  keras.layers.Dropout(dropout), keras.layers.Dense(1)])
        model.compile(keras.optimizers.Adam(1e-2), "mse")
        return model

    def data(first):
        return array_batches((x, y), 8, 0, first, 6)

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    full, whole = fit_resumable(build, data, 5, 6, tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):
        fit_resumable(build, data, 5, 6, tmp_path / "b", callbacks=[Stop()])
    assert json.loads((tmp_path / "b" / "state.json").read_text())["epochs_done"] == 2
    resumed, saver = fit_resumable(build, data, 5, 6, tmp_path / "b")
    assert saver.resumed_at == 2 and len(saver.history["loss"]) == 6
    np.testing.assert_allclose(saver.history["loss"], whole.history["loss"], rtol=1e-5)
    for got, want in zip(resumed.get_weights(), full.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_char_lm_recipe_resumes_to_the_same_model(tmp_path, monkeypatch):
    from zoo import recipes
    from zoo.recipes import runs

    small = dict(units=16, epochs=2, batch_size=512, learning_rate=1e-2)
    whole, fields = recipes.texts.char_lm("char_lm", "shakespeare", checkpoint=tmp_path / "a", **small)
    original = runs.EpochCheckpoint.on_epoch_end

    def stop_after_first(self, epoch, logs=None):
        original(self, epoch, logs)
        raise KeyboardInterrupt

    monkeypatch.setattr(runs.EpochCheckpoint, "on_epoch_end", stop_after_first)
    with pytest.raises(KeyboardInterrupt):
        recipes.texts.char_lm("char_lm", "shakespeare", checkpoint=tmp_path / "b", **small)
    monkeypatch.setattr(runs.EpochCheckpoint, "on_epoch_end", original)
    assert json.loads((tmp_path / "b" / "state.json").read_text())["epochs_done"] == 1
    resumed, again = recipes.texts.char_lm("char_lm", "shakespeare", checkpoint=tmp_path / "b",
                                           **small)
    np.testing.assert_allclose(again["metrics"]["test_bits_per_character"],
                               fields["metrics"]["test_bits_per_character"], rtol=1e-5)
    for got, want in zip(resumed.get_weights(), whole.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_a_ctrl_c_that_python_drops_still_stops_training(tmp_path):
    """A KeyboardInterrupt raised in a finaliser is printed and dropped by Python (here the
    callback drops it); `kept_interrupts` remembers it and the next batch stops."""
    from zoo.recipes.runs import kept_interrupts

    class Dropping(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                try:
                    signal.raise_signal(signal.SIGINT)
                except KeyboardInterrupt:
                    self.dropped_at = batch

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="d")])
    model.compile("sgd", "mse")
    x, y = np.zeros((40, 3), "float32"), np.zeros((40, 1), "float32")
    before = signal.getsignal(signal.SIGINT)
    dropping, saver = Dropping(), EpochCheckpoint(tmp_path, monitor="loss")
    with kept_interrupts():
        with pytest.raises(KeyboardInterrupt):
            model.fit(x, y, epochs=3, batch_size=4, verbose=0, callbacks=[dropping, saver])
    assert dropping.dropped_at == 1
    assert not (tmp_path / "state.json").exists()   # stopped in the first epoch
    assert signal.getsignal(signal.SIGINT) is before
