"""Training runs that never lose work: a run folder that appears whole or not at all,
one writer at a time, a checkpoint every epoch, and resumption.

A run into `OUT` works in a staging folder beside it, `.OUT.partial/`, which holds a lock
while a process writes there, the run's settings (`run.json`) and its checkpoint
(`checkpoint/`: the model with its optimizer state, the best weights so far and the
history). When the run ends, its results move into place in one rename; an interrupted
run (Ctrl-C, SIGKILL, a crash, a NaN loss) leaves the staging folder, and the same
command with `--resume` continues from the last finished epoch.
"""

import contextlib
import json
import math
import os
import shutil
import signal
import threading
from pathlib import Path

import keras
import numpy as np

from zoo.files import (LockedError, atomic_path, check_out, file_lock, foreign_names,
                       read_json, replace_folder, write_text)

STATE = "state.json"
SETTINGS = "run.json"
#: What a run leaves in its folder (`run.json`, its settings, is the mark of a run);
#: `--overwrite` replaces a folder holding nothing else.
RUN_FILES = ("model.keras", "metrics.json", "predictions.png", "manifest.json", SETTINGS)


def earlier_run(folder):
    """None when `folder` holds a finished run's results and nothing else; else why not."""
    if not folder.is_dir():
        return "it is a file"
    foreign = foreign_names(folder, [*RUN_FILES, *(p.name for p in folder.glob("*.weights.h5"))])
    if foreign or (folder / SETTINGS).is_file():
        return foreign
    return f"no {SETTINGS}, which every zoo run leaves"


class RunError(ValueError):
    """A run folder cannot be used as asked (exists, locked, nothing to resume)."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN or inf; the last good checkpoint is kept."""


def finite_or_none(value):
    """`value` for JSON: floats that are NaN or inf become None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_json(path, value):
    """Atomically writes `value` as strict JSON (NaN and inf written as null)."""
    write_text(path, json.dumps(finite_or_none(value), indent=2, allow_nan=False,
                                default=str) + "\n")


class RunFolder:
    """The staging folder of a run into `out`, held for one writer.

    Use it as a context manager; `path` is where the run writes, `checkpoint` where its
    checkpoint lives, and `publish()` moves the results to `out`.

    Args:
        out: the folder the results appear in.
        settings: a JSON-able dict describing the run; `resume` refuses a different one.
        overwrite: replace an existing non-empty `out` (and discard an interrupted run).
        resume: continue the interrupted run staged for `out`.
        resumable: False for a run that keeps no checkpoint: a failed or interrupted one
            then leaves nothing staged.
        sources: the data the run reads (`--overwrite` never replaces them).
    """

    def __init__(self, out, settings, overwrite=False, resume=False, resumable=True,
                 sources=()):
        self.resumable = resumable
        self.sources = list(sources)
        self.out = Path(os.path.abspath(out))
        self.settings = json.loads(json.dumps(finite_or_none(settings), default=str))
        self.overwrite = overwrite
        self.resume = resume
        self.path = self.out.parent / f".{self.out.name}.partial"
        self.checkpoint = self.path / "checkpoint"
        self._lock = None

    def check(self):
        """Refuses, before any work, a run that could not publish or resume; changes nothing
        but creating `out`'s parent folder."""
        out, staged = self.out, self.path
        if out.exists() and not out.is_dir():
            raise RunError(f"--out {out} is a file; a run writes a folder.")
        if not self.resume:
            check_out(out, "an earlier run's results", earlier_run, sources=self.sources,
                      overwrite=self.overwrite, error=RunError)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise RunError(f"--out {out} cannot be created: {error.strerror}.") from None
        if not os.access(out.parent, os.W_OK):
            raise RunError(f"--out {out}: {out.parent} is not writable.")
        if self.resume:
            if not (staged / SETTINGS).is_file():
                done = " (it holds a finished run)" if out.is_dir() else ""
                raise RunError(f"Nothing to resume for {out}{done}: no interrupted run in "
                               f"{staged}.")
            saved = read_json(staged / SETTINGS, error=RunError)
            if saved != self.settings:
                changed = sorted(k for k in set(saved) | set(self.settings)
                                 if saved.get(k) != self.settings.get(k))
                detail = "; ".join(f"{k}: run {saved.get(k)!r}, now {self.settings.get(k)!r}"
                                   for k in changed)
                raise RunError(f"--resume needs the interrupted run's settings ({detail}).")
        elif staged.exists() and not self.overwrite:
            raise RunError(f"An interrupted run into {out} is staged in {staged}: add --resume "
                           "to continue it, or --overwrite to discard it.")
        return self

    def __enter__(self):
        self.check()
        if self.resume:
            self._hold()
            self.check()  # the settings again, now that no one else can change them
        else:
            self._start_fresh()
        return self

    def _hold(self):
        self._lock = file_lock(self.path / ".lock", wait=0)
        try:
            self._lock.__enter__()
        except LockedError:
            self._lock = None
            raise RunError(f"Another zoo train is writing into {self.out} (lock in "
                           f"{self.path}); wait for it or choose another --out.") from None

    def _start_fresh(self):
        if self.path.exists():  # an interrupted run, and --overwrite (check() saw to that)
            self._hold()  # refuses while another run is alive
            shutil.rmtree(self.path)
            self._release()
        try:
            self.path.mkdir()
        except FileExistsError:
            raise RunError(f"Another zoo train is starting into {self.out}; choose another "
                           "--out.") from None
        self._hold()
        self.checkpoint.mkdir()
        write_json(self.path / SETTINGS, self.settings)

    def _release(self):
        if self._lock is not None:
            self._lock.__exit__(None, None, None)
            self._lock = None

    def finished_epochs(self):
        """Whether the staged run holds a checkpoint to `--resume` from."""
        return self.checkpoint.is_dir() and any(self.checkpoint.iterdir())

    def __exit__(self, kind, value, traceback):
        # A run that failed before its first checkpoint leaves nothing to resume: nothing
        # stays behind (a refused run must not block the next one).
        if kind is not None and self._lock is not None and (
                not self.resumable or not self.finished_epochs()):
            shutil.rmtree(self.path, ignore_errors=True)
        self._release()
        return False

    def abandon(self):
        """What leaving the block with an error does, for a process that must exit without
        unwinding (`zoo.distribute.watch`): a run with no finished epoch leaves nothing."""
        self.__exit__(RunError, None, None)

    def discard(self):
        """Removes the staging folder of a run whose results went elsewhere."""
        self._release()
        shutil.rmtree(self.path, ignore_errors=True)

    def publish(self):
        """Moves the finished run to `out` in one rename (the old `out` only after)."""
        shutil.rmtree(self.checkpoint, ignore_errors=True)
        replace_folder(self.path, self.out)  # the lock moves along, still held
        (self.out / ".lock").unlink(missing_ok=True)
        self._release()
        return self.out


def epoch_order(count, seed, epoch):
    """The order of `count` training items in `epoch`: a function of the seed and the
    epoch only, so a resumed run sees the same data order as an uninterrupted one."""
    return np.random.default_rng([seed, epoch]).permutation(count)


_INTERRUPTED = threading.Event()


def _interrupt(signum, frame):
    _INTERRUPTED.set()
    raise KeyboardInterrupt


@contextlib.contextmanager
def kept_interrupts():
    """Ctrl-C stops training even when Python drops its `KeyboardInterrupt`.

    Python prints and drops an exception raised while a finaliser runs, and TensorFlow frees
    tensors and iterators in `__del__`: a Ctrl-C that lands there was lost, and the run went
    on to publish. Inside this context the SIGINT handler also remembers the interrupt, and
    `EpochCheckpoint` raises it again at the next batch. Main thread only; the previous
    handler is put back on leaving.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _interrupt)
    _INTERRUPTED.clear()
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _INTERRUPTED.clear()


class EpochCheckpoint(keras.callbacks.Callback):
    """Checkpoints after every epoch, keeps the best weights, stops on a NaN loss.

    Writes into `folder` (atomically, the state last): `model.keras` (weights and optimizer
    state), `best.weights.h5` when `monitor` improved, and `state.json` (epochs done, the
    history, the best epoch). `resume_state(folder)` reads them back.

    Args:
        folder: the checkpoint folder.
        monitor: the logged value whose lowest epoch is the best. Default "val_loss".
        history: the history of the epochs before this fit (when resuming).
    """

    def __init__(self, folder, monitor="val_loss", history=None):
        super().__init__()
        self.folder = Path(folder)
        self.monitor = monitor
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self.diverged = None

    def best(self):
        """`(index, value)` of the best epoch so far, or `(None, None)`."""
        values = self.history.get(self.monitor, [])
        finite = [v for v in values if v is not None and math.isfinite(v)]
        return (values.index(min(finite)), min(finite)) if finite else (None, None)

    def on_train_batch_end(self, batch, logs=None):
        if _INTERRUPTED.is_set():
            raise KeyboardInterrupt  # a Ctrl-C that Python dropped (`kept_interrupts`)
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged = f"the training loss became {float(loss)} at batch {batch + 1}"
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if _INTERRUPTED.is_set():
            raise KeyboardInterrupt
        logs = {k: float(np.mean(v)) for k, v in (logs or {}).items()}
        if self.diverged or not all(math.isfinite(v) for v in logs.values()):
            self.diverged = self.diverged or f"a logged value is not finite: {logs}"
            self.diverged = f"epoch {epoch + 1}: {self.diverged}"
            self.model.stop_training = True
            return  # the checkpoint of the last good epoch stays
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        best_epoch, _ = self.best()
        if best_epoch is None or best_epoch == len(self.history.get(self.monitor, [])) - 1:
            scratch = self.folder / ".best.partial.weights.h5"  # Keras names formats by suffix
            self.model.save_weights(scratch)
            os.replace(scratch, self.folder / "best.weights.h5")
        with atomic_path(self.folder / "model.keras") as tmp:
            self.model.save(tmp)
        write_json(self.folder / STATE, {"epochs_done": epoch + 1, "history": self.history,
                                         "best_epoch": None if best_epoch is None
                                         else best_epoch + 1,
                                         "seed_states": _seed_states(self.model)})

    def restore_best(self):
        """Loads the best epoch's weights into the model (the paper's early stopping)."""
        best = self.folder / "best.weights.h5"
        if best.is_file():
            self.model.load_weights(best)


def _seed_variables(model):
    # Dropout and other random layers draw from seed generators whose state (seed and
    # counter) Keras does not save with the weights, and whose names differ from process to
    # process; in model order, they let a resumed run draw the masks it would have drawn.
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


def _seed_states(model):
    return [np.asarray(v).tolist() for v in _seed_variables(model)]


def resume_state(folder):
    """`(model or None, state)` of a checkpoint folder: the model with its optimizer,
    and `{"epochs_done", "history", "best_epoch"}` (zero epochs when there is none)."""
    folder = Path(folder)
    if not (folder / STATE).is_file():
        return None, {"epochs_done": 0, "history": {}, "best_epoch": None}
    state = read_json(folder / STATE, error=RunError)
    model = keras.models.load_model(folder / "model.keras")  # our own file, safe mode on
    variables, values = _seed_variables(model), state.get("seed_states", [])
    if len(variables) == len(values):
        for variable, value in zip(variables, values):
            variable.assign(np.asarray(value, dtype=variable.dtype))
    return model, state


def array_batches(arrays, batch_size, seed, first_epoch, epochs):
    """Batches of same-length `arrays` for epochs `first_epoch .. epochs - 1`, each epoch in
    `epoch_order`; no batch spans two epochs. Pair with `steps_per_epoch(len, batch_size)`."""
    import tensorflow as tf

    arrays = tuple(np.asarray(a) for a in arrays)
    count = len(arrays[0])

    def generate():
        for epoch in range(first_epoch, epochs):
            order = epoch_order(count, seed, epoch)
            for start in range(0, count, batch_size):
                rows = order[start:start + batch_size]
                yield tuple(a[rows] for a in arrays)

    signature = tuple(tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)) for a in arrays)
    steps = -(-count // batch_size) * (epochs - first_epoch)
    data = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return data.apply(tf.data.experimental.assert_cardinality(steps)).prefetch(2)


def fit_resumable(build, data, steps, epochs, checkpoint=None, monitor="loss",
                  restore_best=False, verbose=0, compile_with=None, **fit_kwargs):
    """`fit` that checkpoints every epoch into `checkpoint` and continues from it.

    Args:
        build: called with no argument when there is no checkpoint (so the model is built
            once per run, and not at all when resuming): returns the model to train,
            compiled unless `compile_with` is given.
        data: called with the first epoch to run: returns a dataset covering that epoch
            to the last, in an order that depends on the epoch only (`array_batches`).
        steps: batches per epoch.
        epochs: the total number of epochs.
        checkpoint: a folder; None for a scratch one (the run cannot be resumed).
        monitor: the logged value whose lowest epoch is the best.
        restore_best: end with the best epoch's weights (early stopping without stopping)
            instead of the last epoch's.
        compile_with: None, or the keyword arguments of `model.compile` for the model `build`
            returns (a resumed model keeps its own compiled state).
        **fit_kwargs: passed to `fit` (`validation_data`, `callbacks`, ...).

    Returns:
        `(model, saver)`: `saver.history` holds every epoch's logs (those before a resume
        included), `saver.resumed_at` the epochs that were already done.

    Raises:
        TrainingDiverged: the loss became NaN or inf; the last good epoch stays in
            `checkpoint`.
    """
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(checkpoint or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        model, state = resume_state(folder)
        if model is None:
            model = build()
            if compile_with is not None:
                model.compile(**compile_with)
        saver = EpochCheckpoint(folder, monitor=monitor, history=state["history"])
        saver.resumed_at = done = state["epochs_done"]
        if done < epochs:
            callbacks = [*fit_kwargs.pop("callbacks", []), saver]
            model.fit(data(done), epochs=epochs, initial_epoch=done, steps_per_epoch=steps,
                      shuffle=False, verbose=verbose, callbacks=callbacks, **fit_kwargs)
        if saver.diverged:
            where = f" is kept in {folder}" if checkpoint else " was not kept (no checkpoint)"
            raise TrainingDiverged(
                f"Training stopped at {saver.diverged}. The checkpoint of the last good epoch"
                f"{where}; a lower learning rate usually helps.")
        if restore_best:
            saver.restore_best()
        return model, saver
