"""`zoo train` and `zoo demo`: run folders, recipes, and training on AVEC-layout corpora."""

import contextlib
import json
import shutil
import uuid
from pathlib import Path

from zoo import pretrained, recipes, registry
from zoo.data import load_avec, save_avec, synthetic
from zoo.data.uea import BUNDLED as UEA_SETS
from zoo.cli.args import Interrupted, UsageError, user_errors, verbosity
from zoo.files import (check_out, foreign_names, plain_path, read_json, replace_folder,
                       write_text)
from zoo.recipes.avec import corpus_card, train_on_corpus
from zoo.recipes.runs import RunFolder, kept_interrupts
from zoo.recipes.training import Training

BUILTIN_DATA = {"recola_like": "generated AVEC-layout recordings (zoo.data.synthetic)"}


def load_corpus(spec, seed=0):
    if spec == "recola_like":
        return synthetic.recola_like(seed=seed).znorm()
    spec = plain_path(spec)
    if not Path(spec).is_dir():
        raise UsageError(
            f"--data {spec!r} is neither an AVEC-layout folder nor a built-in set "
            f"({', '.join(BUILTIN_DATA)}). Bundled UEA sets, for every sequence classifier "
            f"(`zoo list`): {', '.join(UEA_SETS)}. Recipes on bundled data: "
            + "; ".join(f"zoo train {n} --data {d}" for n, d in recipes.RECIPES)
        )
    return load_avec(spec, partitions=("train", "dev"))


def print_scores(scores):
    for dim in scores["ccc"]:
        print(f"  {dim:10s} CCC {scores['ccc'][dim]:6.3f}   RMSE {scores['rmse'][dim]:.3f}")


def _export(model, args, fields, folder):
    card = pretrained.export(model, args.name, args.export_pretrained, folder,
                             overwrite=args.overwrite, **fields)
    key = f"{args.name}.{args.export_pretrained}"
    print(f"wrote {Path(args.out) / card['file']} (sha256 {card['sha256'][:12]}...) and its card "
          f"in {Path(args.out) / pretrained.MANIFEST}")
    print(f"load it with zoo.pretrained.register_directory({str(args.out)!r}); "
          f"zoo.get({args.name!r}, weights={args.export_pretrained!r})  [{key}]")


def _interrupted(run):
    if run is None or not run.finished_epochs():
        return Interrupted("interrupted before the first epoch ended; nothing was kept.")
    return Interrupted(f"interrupted; finished epochs are checkpointed in {run.path}: run the "
                       "same command with --resume to continue.")


def _training(args):
    """The run the arguments describe, checked once: every path below takes this object."""
    settings = dict(args.set or ())  # each `--set` parsed by the parser (`zoo.cli.args.setting`)
    training = Training(args.name, args.data, settings, args.epochs, args.lr, args.seed,
                        args.batch_size, args.export_pretrained)
    source = training.source
    if source in ("recipe", "uea") and (args.devices or args.distributed):
        raise UsageError("--devices and --distributed train on your own data "
                         "(--data shards:PATH); runs on bundled sets use one device.")
    if source == "corpus" and (args.devices or args.distributed):
        raise UsageError("--devices and --distributed stream the data from shards: pack it "
                         "with `zoo data pack SOURCE --out SHARDS`, then pass "
                         "--data shards:SHARDS.")
    if source == "recipe":
        fixed = [f"--{k}" for k in ("set", "epochs", "lr") if getattr(args, k)]
        if fixed:
            raise UsageError(
                f"{' and '.join(fixed)}: the recipe {args.name} --data {args.data} has fixed "
                "settings; train on a folder of your own data to choose them.")
        return training
    if source == "uea":
        registry.check_task(args.name, "classes", f"--data {args.data}")
    elif source == "corpus":
        data = plain_path(args.data)
        if args.data in BUILTIN_DATA or Path(data).is_dir():
            registry.check_task(args.name, "frames", f"--data {data}")
    taken = [k for k in settings if k in training.fixed]
    if taken:
        raise UsageError(f"--set {taken[0]}: set by --data {args.data} (with "
                         f"{', '.join(training.fixed)}); leave it out.")
    if args.export_pretrained and source != "corpus":
        raise UsageError(
            "--export-pretrained: train on shards, then export the model.keras it writes "
            "with `zoo export`." if source == "shards" else
            "--export-pretrained: the shipped entries' recipes run without --set, --epochs "
            "and --lr; this run writes model.keras to export with `zoo export`.")
    if args.export_pretrained:
        pretrained.check_tag(args.export_pretrained)
    if args.resume and source == "uea":
        raise UsageError(f"--resume: a classifier on {args.data} runs start to end without "
                         "checkpoints (a few minutes); run it again.")
    return training if source == "uea" else training.with_defaults()


def _train_recipe(args, training):
    """A shipped entry's recipe: bundled data, fixed settings."""
    resumable = recipes.resumable(training.model, training.data)
    if args.resume and not resumable:
        raise UsageError(
            f"--resume: the recipe {args.name} --data {args.data} runs start to end without "
            "checkpoints (a few minutes); run it again.")
    out = Path(args.out)
    if args.export_pretrained:
        # OUT is a manifest folder that gains an entry (under a lock, atomically); the run
        # itself is staged inside it.
        key = f"{args.name}.{args.export_pretrained}"
        pretrained.check_tag(args.export_pretrained)
        known = pretrained.read_entries(out) if out.is_dir() else {}
        if key in known and not args.overwrite and not args.resume:
            raise UsageError(f"{out} already holds the entry {key}; pass --overwrite to "
                             "replace it.")
        out = out / f"{key}.run"
    run = RunFolder(out, training.identity(), overwrite=args.overwrite, resume=args.resume,
                    resumable=resumable).check()
    with run:
        try:
            model, fields = recipes.run(training.model, training.data, seed=training.seed,
                                        verbose=verbosity(args),
                                        checkpoint=run.checkpoint if resumable else None)
        except KeyboardInterrupt:
            if not resumable:
                raise
            raise _interrupted(run) from None
        for metric, value in fields["metrics"].items():
            print(f"  {metric} on held-out data ({fields['split']}): {value:.4f}")
        fields["recipe"] = recipes.command(training.model, training.data,
                                           args.export_pretrained or "TAG", training.seed)
        if args.export_pretrained:
            _export(model, args, fields, args.out)
            run.discard()
            return
        model.save(run.path / "model.keras")
        run.publish()
    print(f"wrote {Path(args.out) / 'model.keras'}")


def _devices(text):
    if text is None or text == "all":
        return text
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise UsageError(f"--devices must be 'all' or a positive whole number. Received {text!r}.")
    return count


def _train_shards(args, training):
    """`zoo train NAME --data shards:PATH`: streamed from disk, on one or more devices or
    processes (`--devices`, `--distributed`)."""
    from zoo import distribute
    from zoo.data.shards import read_index
    from zoo.recipes.shards import check_batch, check_kind, check_workers, train_on_shards

    folder = plain_path(training.data)
    devices = _devices(args.devices)
    lead, processes, checkpoint, refusal = True, 1, None, None
    if args.distributed:
        _, processes, process_id = distribute.settings(
            args.coordinator, args.num_processes, args.process_id, args.timeout)
        lead = process_id == 0
    # Everything that can be checked before the processes meet is checked first, on every
    # process: the shards (once: their sha256 is not computed again for training), the
    # pack against the model and its settings, the batch against the records, the --out
    # state. A process that refuses tells the others at the rendezvous, and they all stop.
    run = RunFolder(args.out, training.identity(), overwrite=args.overwrite,
                    resume=args.resume, sources=[folder])
    try:
        index = read_index(folder)
        check_kind(training.model, index, folder)
        registry.check_overrides(training.model, registry.factory(training.model),
                                 training.settings)
        check_batch(index, folder, training.batch_size)
        check_workers(index, folder, training.batch_size, processes)
        if lead:
            run.check()
        elif args.resume:  # the lead's checkpoint, read into a scratch copy of this process's
            checkpoint = _copy_checkpoint(run)
    except Exception as error:
        if not args.distributed:
            raise
        refusal = (" ".join(str(error).split()), 2 if isinstance(error, user_errors()) else 1)
    if args.distributed:
        distribute.initialize(args.coordinator, args.num_processes, args.process_id,
                              timeout=args.timeout, refusal=refusal)
        devices = devices or "all"
    with run if lead else contextlib.nullcontext():
        if lead:
            distribute.watch.on_stop(run.abandon)
        elif checkpoint is not None:
            distribute.watch.on_stop(lambda: shutil.rmtree(checkpoint.parent, True))
        try:
            _, summary = train_on_shards(
                training, run.path if lead else None, verbose=verbosity(args) if lead else 0,
                checkpoint=run.checkpoint if lead else checkpoint, devices=devices,
                verify=False)
        except KeyboardInterrupt:
            raise _interrupted(run if lead else None) from None
        if lead:
            run.publish()
    distribute.watch.finish()
    where = f"{summary['processes']} process(es), devices: {summary['devices']}"
    print(f"trained {args.name} on {summary['train_records']} recordings ({where}) in "
          f"{summary['train_seconds']:.0f} s; weights fingerprint {summary['fingerprint']}")
    for key, value in summary.get("validation_scores", {}).items():
        print(f"  {summary['validation']} {key}: {value:.4f}")
    if "dimension_scores" in summary:
        print(f"{summary['validation']} scores ({summary['validation_records']} recordings, "
              "all frames pooled):")
        print_scores(summary["dimension_scores"])
    if lead:
        plot = ", predictions.png" if "dimension_scores" in summary else ""
        print(f"wrote {Path(args.out) / 'model.keras'}, metrics.json{plot}")


def _copy_checkpoint(run):
    """A scratch copy of the checkpoint process 0 resumes from (the other processes of a
    multi-process run resume from the same epoch, and never write into process 0's)."""
    import atexit
    import tempfile

    if not run.finished_epochs():
        raise UsageError(f"Nothing to resume for {run.out}: no checkpoint in {run.checkpoint}.")
    scratch = Path(tempfile.mkdtemp(prefix="zoo-resume-"))
    atexit.register(shutil.rmtree, scratch, True)
    shutil.copytree(run.checkpoint, scratch / "checkpoint")
    return scratch / "checkpoint"


def _train_uea(args, training):
    """`zoo train CLASSIFIER --data UEASET`: a registered sequence classifier on a bundled
    UEA set, with the set's settings (`zoo.recipes.uea.settings_for`) and the caller's
    --epochs, --lr and --set."""
    from zoo.recipes.uea import train_on_uea

    run = RunFolder(args.out, training.identity(), overwrite=args.overwrite,
                    resumable=False).check()
    with run:
        _, summary = train_on_uea(training, run.path, verbose=verbosity(args))
        run.publish()
    print(f"trained {args.name} on {args.data} ({summary['split']}, {summary['epochs']} "
          f"epoch{'s' if summary['epochs'] != 1 else ''}): test accuracy {summary['test_accuracy']:.4f}")
    print(f"wrote {Path(args.out) / 'model.keras'} (takes raw frames, end-padded with "
          "0-frames), metrics.json")


def _train_corpus(args, training):
    """`zoo train REGRESSOR --data FOLDER`: an AVEC-layout corpus (or a generated one)."""
    # Everything is checked before the first epoch: the run folder, the data, then (once,
    # inside the run) the model against the data; a refusal leaves nothing staged.
    run = RunFolder(args.out, training.identity(), overwrite=args.overwrite,
                    resume=args.resume, sources=[args.data]).check()
    corpus = load_corpus(training.data, training.seed)
    with run:
        try:
            model, summary = train_on_corpus(training, corpus, run.path,
                                             verbose=verbosity(args), checkpoint=run.checkpoint)
        except KeyboardInterrupt:
            raise _interrupted(run) from None
        if args.export_pretrained:
            _export(model, args, corpus_card(args.data, corpus, summary, model,
                                             training.command(args.out)), run.path)
        run.publish()
    print(f"dev scores ({summary['dev_recordings']} recordings, all frames pooled):")
    print_scores(summary["dev"])
    print(f"wrote {args.out}/model.keras, metrics.json, predictions.png")


#: Which function runs each source of `Training.source`.
_PATHS = {"recipe": _train_recipe, "uea": _train_uea, "shards": _train_shards,
          "corpus": _train_corpus}


def cmd_train(args):
    with kept_interrupts():
        training = _training(args)
        return _PATHS[training.source](args, training)


#: The demo's mark in its folder: the names it wrote, so `--overwrite` knows them.
DEMO_MARK = "demo.json"


def _earlier_demo(folder):
    """None when `folder` holds an earlier demo's files and nothing else; else why not."""
    if not folder.is_dir():
        return "it is a file"
    try:
        written = read_json(folder / DEMO_MARK)["files"]
        if not isinstance(written, list):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        held = foreign_names(folder, ())
        return f"{held}, and no {DEMO_MARK}" if held else f"no {DEMO_MARK}"
    return foreign_names(folder, [*written, DEMO_MARK])


def cmd_demo(args):
    """Generate AVEC-layout data on disk, read it back, train emotion_downup, score dev."""
    out = Path(args.out)
    check_out(out, "an earlier demo's files", _earlier_demo, overwrite=args.overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written whole beside OUT, then swapped in: a failed or interrupted demo leaves OUT as
    # it was.
    staged = out.parent / f".{out.name}.demo-{uuid.uuid4().hex[:8]}"
    staged.mkdir()  # a plain mkdir: the folder gets the permissions of any new folder
    try:
        print(f"writing generated AVEC-layout recordings to {out / 'data'} ...")
        corpus = synthetic.recola_like(train=9, dev=9, length=args.length,
                                       input_dim=args.input_dim, seed=args.seed)
        save_avec(corpus, staged / "data")
        corpus = load_avec(staged / "data")
        print(f"training emotion_downup with CCCLoss on {len(corpus.subset('train'))} "
              f"recordings x {args.length} frames x {corpus.input_dim} features")
        training = Training("emotion_downup", str(staged / "data"), epochs=args.epochs,
                            learning_rate=args.lr, seed=args.seed)
        _, summary = train_on_corpus(training, corpus, staged, verbose=verbosity(args))
        write_text(staged / DEMO_MARK, json.dumps(
            {"files": sorted(p.name for p in staged.iterdir())}, indent=1) + "\n")
        replace_folder(staged, out)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    print(f"dev CCC per dimension ({summary['dev_recordings']} recordings, "
          f"{summary['train_seconds']:.0f} s training):")
    print_scores(summary["dev"])
    print(f"plot of predictions against truth: {out / 'predictions.png'}")
