"""Train a registered model on a packed corpus (`zoo data pack`), streamed from disk, on one
device, several devices, or several processes.

Frame-labelled packs (AVEC layout) train a regressor with `CCCLoss` and report CCC and RMSE;
class-labelled packs (UEA `.ts`) train a classifier with cross-entropy and report accuracy;
text packs train a character model (`char_lm`, `bilinear_char_lm`) on next-character
cross-entropy.
The `train` split is fitted; `dev` (or `test` in a class pack without `dev`) is the
validation data whose best epoch is kept.
"""

import contextlib
import functools
import hashlib
import math
import time
from pathlib import Path

import keras
import numpy as np

from zoo import distribute, losses, metrics, registry
from zoo.data.records import named_mismatches
from zoo.data.shards import ShardError, read_index, sizes, split_counts, stream
from zoo.files import atomic_path, plain_path
from zoo.plots import plot_predictions
from zoo.recipes.runs import fit_resumable, write_json


def check_kind(name, index, folder):
    """A `ShardError` unless model `name` takes what the pack holds (its task, declared
    with its factory, against the pack's kind), naming both and the models that fit."""
    try:
        registry.check_task(name, index["kind"], f"the pack {folder}")
    except ValueError as error:
        raise ShardError(str(error)) from None


def check_batch(index, folder, batch_size):
    """A `ShardError` unless the pack has a `train` split of at least `batch_size` records."""
    splits = split_counts(index)
    if "train" not in splits:
        raise ShardError(f"{folder} holds no 'train' records; splits: {sorted(splits)}.")
    if batch_size > splits["train"]:
        raise ShardError(f"batch size {batch_size} is larger than the {splits['train']} "
                         f"'train' records of {folder}; pass at most {splits['train']}.")


def check_workers(index, folder, batch_size, processes):
    """A `ShardError` unless the global batch divides among `processes` and each process's
    share of the `train` records fills at least one of its batches (checked before the
    processes meet)."""
    if processes == 1:
        return
    if batch_size % processes:
        raise ShardError(f"batch size {batch_size} does not divide among {processes} "
                         "processes; pass a multiple of the process count.")
    records, local = split_counts(index)["train"], batch_size // processes
    if records // processes < local:
        raise ShardError(
            f"the {records} 'train' records of {folder} give each of {processes} processes "
            f"{records // processes}, fewer than its batch of {local} (--batch-size "
            f"{batch_size} over {processes}); pass at most "
            f"{records // processes * processes}.")


def _compile_settings(kind, learning_rate):
    """`model.compile` arguments for a pack of `kind`: CCC for frames, cross-entropy for
    classes and characters."""
    if kind == "tokens":
        return {"optimizer": keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                "loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                "metrics": ["accuracy"]}
    if kind == "frames":
        return {"optimizer": keras.optimizers.Adam(learning_rate), "loss": losses.CCCLoss(),
                "weighted_metrics": [metrics.CCC(), metrics.RMSE()]}
    return {"optimizer": keras.optimizers.Adam(learning_rate),
            "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}


def train_on_shards(training, out=None, verbose=1, checkpoint=None, devices=None,
                    verify=True):
    """Fits `training.model` on the `train` split of the shard folder `training.data`
    (`"shards:PATH"`); returns `(model, summary)`.

    Args:
        training: a `zoo.recipes.training.Training`: the model and its settings, the
            epochs and learning rate (None: `DEFAULTS`), the seed and the global batch
            (`batch_size`: split over devices, and over processes after
            `zoo.distribute.initialize`; it must divide evenly among processes).
        out: folder that receives `model.keras` and `metrics.json` (None: nothing written,
            as on the processes other than 0 of a multi-process run).
        devices: None for one device; "all" or an int for data-parallel training
            (`zoo.distribute.devices`).
        checkpoint: as in `fit_resumable`; a resumed run continues from the last finished
            epoch with the batches an uninterrupted run would have met there.
        verify: check every shard's sha256 first (False when the caller just did).

    Raises:
        ShardError: an unreadable pack, a model that takes other data, no `train` split, a
            batch larger than the `train` split or that does not divide, a record that
            disagrees with the index (named with its shard and field, when the stream
            meets it).
    """
    training = training.with_defaults()
    name, epochs, seed, batch_size = (training.model, training.epochs, training.seed,
                                      training.batch_size)
    folder = plain_path(training.data)
    index = read_index(folder, verify=verify)
    check_kind(name, index, folder)
    splits = split_counts(index)
    validation = "dev" if "dev" in splits else ("test" if index["kind"] == "classes"
                                                and "test" in splits else None)
    workers = distribute.worker()
    processes = 1 if workers is None else workers[0]
    check_batch(index, folder, batch_size)
    check_workers(index, folder, batch_size, processes)
    local_batch = batch_size // processes
    steps = math.ceil(splits["train"] / batch_size) if workers is None else (
        splits["train"] // processes // local_batch)
    keras.utils.set_random_seed(seed)

    def data(first_epoch):
        # One stream for the whole run; a resumed run skips the batches of the epochs done,
        # so it meets the batches an uninterrupted run would (reading them again costs one
        # pass over the data per finished epoch, once).
        return stream(folder, "train", local_batch, seed=seed, repeat=True, workers=workers,
                      verify=False).skip(first_epoch * steps)

    context = distribute.devices(devices) if devices else contextlib.nullcontext()
    # Devices each process feeds: its batches must split evenly over them.
    unit = max(len(distribute.pick(devices)) // processes, 1) if devices else 1
    if local_batch % unit:
        raise ShardError(f"batch size {batch_size} does not split evenly over "
                         f"{unit * processes} devices; pass a multiple of the device count.")
    fit_kwargs, validation_records = {}, splits.get(validation, 0)
    if validation:
        # Several devices or processes step on whole batches: validation runs in batches of
        # a multiple of the devices, and leaves out the few records left over.
        kept = validation_records // processes
        val_batch = max(unit, min(local_batch, kept) // unit * unit)
        if unit > 1 or workers is not None:
            validation_records = kept // val_batch * val_batch * processes
        held_out = stream(folder, validation, val_batch, shuffle=False, workers=workers,
                          verify=False, buckets=8 if unit == 1 else 1,
                          drop_remainder=unit > 1)
    start = time.time()
    with context, named_mismatches(folder, index):
        if validation:
            # Batches of one pass, counted once (inside the checks' context: a record that
            # disagrees is named): Keras warns that a stream of unknown length "ran out of
            # data" at the end of its first pass; repeated with a known count of steps,
            # every validation reads the split exactly once.
            fit_kwargs.update(validation_steps=sum(1 for _ in held_out),
                              validation_data=held_out.repeat())
        model, saver = fit_resumable(
            functools.partial(registry.build_for_data, name, sizes(index),
                              **training.settings), data, steps, epochs, checkpoint,
            monitor="val_loss" if validation else "loss", restore_best=bool(validation),
            verbose=verbose, compile_with=_compile_settings(index["kind"],
                                                           training.learning_rate),
            **fit_kwargs)
    best_epoch, _ = saver.best()
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    summary = {"model": name, "data": str(folder), "kind": index["kind"], "epochs": epochs,
               "batch_size": batch_size, "devices": devices or 1,
               "processes": processes,
               "train_records": splits["train"], "validation": validation,
               "validation_records": validation_records,
               "best_epoch": None if best_epoch is None else best_epoch + 1,
               "train_seconds": round(time.time() - start, 2),
               # equal on every process of a multi-process run: they hold one model
               "fingerprint": digest.hexdigest()[:16], "history": saver.history}
    if validation:
        summary["validation_scores"] = {k[4:]: v[best_epoch] for k, v in saver.history.items()
                                        if k.startswith("val_")}
    # The AVEC way: every frame of the split pooled, per dimension. In a multi-process run
    # process 0 scores the model it wrote, read back onto its own devices (the trained
    # variables span every process).
    scored = index["kind"] == "frames" and validation and (workers is None or out is not None)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        with atomic_path(out / "model.keras") as tmp:
            model.save(tmp)
    if scored:
        local = model if workers is None else keras.models.load_model(out / "model.keras")
        summary["dimension_scores"], first = score_frames(local, folder, validation, index)
    if out is not None:
        write_json(out / "metrics.json", summary)
        if scored:
            plot_predictions(*first, index["dimensions"], out / "predictions.png",
                             title=f"{name}: the first {validation} recording")
    return model, summary


def score_frames(model, folder, split, index):
    """CCC and RMSE per dimension over every frame of `split`'s recordings, each
    predicted whole (as `zoo evaluate` scores an AVEC folder).

    Returns:
        `({"ccc": {dim: value}, "rmse": {dim: value}}, (labels, predictions))`, the
        second of the first recording, for the plot.
    """
    ccc, rmse, first = metrics.CCC(), metrics.RMSE(), None
    for x, y, mask in stream(folder, split, 1, shuffle=False, buckets=1, verify=False):
        frames = int(np.asarray(mask).sum())
        x, y = np.asarray(x)[:, :frames], np.asarray(y)[:, :frames]
        predicted = np.asarray(model(x, training=False))
        ccc.update_state(y, predicted)
        rmse.update_state(y, predicted)
        first = first or (y[0], predicted[0])
    dims = index["dimensions"]
    return {"ccc": dict(zip(dims, map(float, np.asarray(ccc.result())))),
            "rmse": dict(zip(dims, map(float, np.asarray(rmse.result()))))}, first
