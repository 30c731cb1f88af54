"""`zoo train` and `zoo demo`: run folders, recipes, and training on AVEC-layout corpora."""

import contextlib
import json
import shutil
import uuid
from pathlib import Path

from zoo import pretrained, recipes, registry
from zoo.catalog import get
from zoo.data import load_avec, save_avec, synthetic
from zoo.data.uea import BUNDLED as UEA_SETS
from zoo.cli.args import (TRAIN_DEFAULTS, Interrupted, UsageError, parse_overrides,
                          user_errors, verbosity)
from zoo.files import (check_out, foreign_names, plain_path, read_json, replace_folder,
                       write_text)
from zoo.recipes.avec import corpus_card, train_on_corpus
from zoo.recipes.runs import RunFolder, kept_interrupts

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


def _corpus_command(args):
    """The `zoo train` command line that re-creates a run on a corpus."""
    overrides = " ".join(f"--set {k}={json.dumps(v)}" for k, v in parse_overrides(args.set).items())
    return (f"zoo train {args.name} --data {args.data} --epochs {args.epochs} --lr {args.lr} "
            f"--seed {args.seed} {overrides} --out {args.out} "
            f"--export-pretrained {args.export_pretrained}").replace("  ", " ")


def _run_settings(args):
    """What identifies a run, for `--resume` to compare against."""
    settings = {"name": args.name, "data": args.data, "epochs": args.epochs, "lr": args.lr,
                "seed": args.seed, "set": parse_overrides(args.set),
                "export_pretrained": args.export_pretrained}
    if args.data.startswith("shards:"):
        settings["batch_size"] = args.batch_size
    return settings


def _interrupted(run):
    if run is None or not run.finished_epochs():
        return Interrupted("interrupted before the first epoch ended; nothing was kept.")
    return Interrupted(f"interrupted; finished epochs are checkpointed in {run.path}: run the "
                       "same command with --resume to continue.")


def _train_recipe(args):
    """A shipped entry's recipe: bundled data, fixed settings."""
    resumable = recipes.resumable(args.name, args.data)
    fixed = [f"--{k}" for k in ("set", "epochs", "lr") if getattr(args, k) is not None]
    if fixed:
        raise UsageError(
            f"{' and '.join(fixed)}: the recipe {args.name} --data {args.data} has fixed "
            "settings; train on a folder of your own data to choose them.")
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
    run = RunFolder(out, _run_settings(args), overwrite=args.overwrite, resume=args.resume,
                    resumable=resumable).check()
    with run:
        try:
            model, fields = recipes.run(args.name, args.data, seed=args.seed,
                                        verbose=verbosity(args),
                                        checkpoint=run.checkpoint if resumable else None)
        except KeyboardInterrupt:
            if not resumable:
                raise
            raise _interrupted(run) from None
        for metric, value in fields["metrics"].items():
            print(f"  {metric} on held-out data ({fields['split']}): {value:.4f}")
        fields["recipe"] = recipes.command(args.name, args.data,
                                           args.export_pretrained or "TAG", args.seed)
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


def _train_shards(args):
    """`zoo train NAME --data shards:PATH`: streamed from disk, on one or more devices or
    processes (`--devices`, `--distributed`)."""
    from zoo import distribute
    from zoo.data.shards import read_index
    from zoo.recipes.shards import (build_for, check_batch, check_kind, check_workers,
                                    train_on_shards)

    folder = plain_path(args.data)
    devices = _devices(args.devices)
    overrides = parse_overrides(args.set)
    lead, processes, checkpoint, refusal = True, 1, None, None
    if args.distributed:
        _, processes, process_id = distribute.settings(
            args.coordinator, args.num_processes, args.process_id, args.timeout)
        lead = process_id == 0
    # Everything that can be checked before the processes meet is checked first, on every
    # process: the shards (once: their sha256 is not computed again for training), the
    # pack against the model, the batch against the records, the --out state. A process
    # that refuses tells the others at the rendezvous, and they all stop.
    run = RunFolder(args.out, _run_settings(args), overwrite=args.overwrite,
                    resume=args.resume, sources=[folder])
    try:
        index = read_index(folder)
        check_kind(args.name, index, folder)
        check_batch(index, folder, args.batch_size)
        check_workers(index, folder, args.batch_size, processes)
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
    build_for(args.name, index, overrides, folder)
    with run if lead else contextlib.nullcontext():
        if lead:
            distribute.watch.on_stop(run.abandon)
        elif checkpoint is not None:
            distribute.watch.on_stop(lambda: shutil.rmtree(checkpoint.parent, True))
        try:
            _, summary = train_on_shards(
                args.name, folder, run.path if lead else None, args.epochs, args.lr, overrides,
                args.seed, verbose=verbosity(args) if lead else 0,
                checkpoint=run.checkpoint if lead else checkpoint, batch_size=args.batch_size,
                devices=devices, verify=False)
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


def _train_uea(args):
    """`zoo train CLASSIFIER --data UEASET`: a registered sequence classifier on a bundled
    UEA set, with the set's settings (`zoo.recipes.uea.settings_for`) and the caller's
    --epochs, --lr and --set."""
    from zoo.recipes.uea import train_on_uea

    registry.check_task(args.name, "classes", f"--data {args.data}")
    if args.export_pretrained:
        raise UsageError("--export-pretrained: the shipped entries' recipes run without "
                         "--set, --epochs and --lr; this run writes model.keras to export "
                         "with `zoo export`.")
    if args.resume:
        raise UsageError(f"--resume: a classifier on {args.data} runs start to end without "
                         "checkpoints (a few minutes); run it again.")
    overrides = parse_overrides(args.set, ("input_dim", "classes", "input_mean", "input_std"),
                                args.data)
    run = RunFolder(args.out, _run_settings(args), overwrite=args.overwrite,
                    resumable=False).check()
    with run:
        _, summary = train_on_uea(args.name, args.data, run.path, args.epochs, args.lr,
                                  overrides, args.seed, verbose=verbosity(args))
        run.publish()
    print(f"trained {args.name} on {args.data} ({summary['split']}, {summary['epochs']} "
          f"epoch{'s' if summary['epochs'] != 1 else ''}): test accuracy {summary['test_accuracy']:.4f}")
    print(f"wrote {Path(args.out) / 'model.keras'} (takes raw frames, end-padded with "
          "0-frames), metrics.json")


def cmd_train(args):
    with kept_interrupts():
        return _train(args)


def _train(args):
    # A classifier's recipe on a UEA set with settings of the caller's own (--set, --epochs,
    # --lr) is a run on that set; the other recipes keep their fixed settings.
    own = any(getattr(args, k) is not None for k in ("set", "epochs", "lr"))
    recipe = (args.name, args.data) in recipes.RECIPES
    uea_run = args.data in UEA_SETS and (
        not recipe or (own and registry.task(args.name) == "classes"))
    if (recipe or uea_run) and (args.devices or args.distributed):
        raise UsageError("--devices and --distributed train on your own data "
                         "(--data shards:PATH); runs on bundled sets use one device.")
    if uea_run:
        return _train_uea(args)
    if recipe:
        return _train_recipe(args)
    args.epochs = TRAIN_DEFAULTS["epochs"] if args.epochs is None else args.epochs
    args.lr = TRAIN_DEFAULTS["lr"] if args.lr is None else args.lr
    if args.data.startswith("shards:"):
        if args.export_pretrained:
            raise UsageError("--export-pretrained: train on shards, then export the "
                             "model.keras it writes with `zoo export`.")
        return _train_shards(args)
    if args.devices or args.distributed:
        raise UsageError("--devices and --distributed stream the data from shards: pack it "
                         "with `zoo data pack SOURCE --out SHARDS`, then pass "
                         "--data shards:SHARDS.")
    if args.export_pretrained:
        pretrained.check_tag(args.export_pretrained)
    overrides = parse_overrides(args.set, ("input_dim", "outputs"), args.data)
    # Everything is checked before the first epoch: the model against the data, the run
    # folder, the data, the settings.
    data = plain_path(args.data)
    if args.data in BUILTIN_DATA or Path(data).is_dir():
        registry.check_task(args.name, "frames", f"--data {data}")
    run = RunFolder(args.out, _run_settings(args), overwrite=args.overwrite,
                    resume=args.resume, sources=[args.data]).check()
    corpus = load_corpus(args.data, args.seed)
    get(args.name, input_dim=corpus.input_dim, outputs=len(corpus.dimensions), **overrides)
    with run:
        try:
            model, summary = train_on_corpus(args.name, corpus, run.path, args.epochs, args.lr,
                                             overrides, args.seed, verbose=verbosity(args),
                                             checkpoint=run.checkpoint)
        except KeyboardInterrupt:
            raise _interrupted(run) from None
        if args.export_pretrained:
            _export(model, args, corpus_card(args.data, corpus, summary, model, _corpus_command(args)), run.path)
        run.publish()
    print(f"dev scores ({summary['dev_recordings']} recordings, all frames pooled):")
    print_scores(summary["dev"])
    print(f"wrote {args.out}/model.keras, metrics.json, predictions.png")


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
        _, summary = train_on_corpus("emotion_downup", corpus, staged, args.epochs, args.lr,
                                     seed=args.seed, verbose=verbosity(args))
        write_text(staged / DEMO_MARK, json.dumps(
            {"files": sorted(p.name for p in staged.iterdir())}, indent=1) + "\n")
        replace_folder(staged, out)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    print(f"dev CCC per dimension ({summary['dev_recordings']} recordings, "
          f"{summary['train_seconds']:.0f} s training):")
    print_scores(summary["dev"])
    print(f"plot of predictions against truth: {out / 'predictions.png'}")
