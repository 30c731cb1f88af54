"""The `zoo` command line: list and describe models and pretrained weights, train,
evaluate, recognise with an RNNPB, and run the demo.

A user error (a bad argument, a missing or malformed file, an unusable --out) is one line
on stderr and exit status 2, never a traceback. `zoo VERB --help` describes each verb.
"""

import argparse
import json
import math
import sys
from pathlib import Path

import keras
import numpy as np
import pandas as pd

import zoo
from zoo import pb_space, pretrained, recipes
from zoo.evaluation import score_corpus
from zoo.files import LockedError, write_text
from zoo.runs import RunError, RunFolder, TrainingDiverged
from zoo.training import train_on_corpus

BUILTIN_DATA = {"recola_like": "generated AVEC-layout recordings (zoo.data.synthetic)"}
#: Defaults of the corpus path of `zoo train` (recipes fix their own).
TRAIN_DEFAULTS = {"epochs": 30, "lr": 1e-3}


class UsageError(Exception):
    """A user error the command line reports in one line, exit status 2."""


class Interrupted(Exception):
    """Ctrl-C during training: reported in one line, exit status 130."""


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)

    def error(self, message):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


class _Help(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written; every option's help ends with its default, when it has one."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (default not in (None, False, argparse.SUPPRESS) and "default" not in text
                and not isinstance(action, argparse._HelpAction)):
            text += f" (default: {default!r})" if isinstance(default, str) else (
                f" (default: {default})")
        return text


def _verbosity(args):
    """Keras verbosity: `--verbose` if given, 0 with `--quiet`, else a progress bar in a
    terminal and one line per epoch when the output is a file or a pipe."""
    if getattr(args, "quiet", False):
        return 0
    if getattr(args, "verbose", None) is not None:
        return args.verbose
    return 1 if sys.stdout.isatty() else 2


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, received {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, received {value}")
    return value


def _learning_rate(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, received {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, received {text}")
    return value


def _load_corpus(spec, seed=0):
    if spec == "recola_like":
        return zoo.data.synthetic.recola_like(seed=seed).znorm()
    if spec.startswith("avec2016:"):
        spec = spec.split(":", 1)[1]
    if not Path(spec).is_dir():
        raise UsageError(
            f"--data {spec!r} is neither an AVEC-layout folder nor a built-in set "
            f"({', '.join(BUILTIN_DATA)}). Recipes on bundled data: "
            + "; ".join(f"zoo train {n} --data {d}" for n, d in recipes.RECIPES)
        )
    return zoo.data.load_avec(spec)


def _parse_overrides(pairs):
    overrides = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--set expects KEY=VALUE. Received {pair!r}.")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
        if isinstance(overrides[key], float) and not math.isfinite(overrides[key]):
            raise UsageError(f"--set {key}: {value} is not a finite number.")
    return overrides


def cmd_list(args):
    for name in zoo.list_models(args.pattern):
        print(name)


def cmd_info(args):
    print(json.dumps(zoo.info(args.name), indent=2, default=str))


def _print_scores(scores):
    for dim in scores["ccc"]:
        print(f"  {dim:10s} CCC {scores['ccc'][dim]:.3f}   RMSE {scores['rmse'][dim]:.3f}")


def _export(model, args, fields, folder):
    card = pretrained.export(model, args.name, args.export_pretrained, folder, **fields)
    key = f"{args.name}.{args.export_pretrained}"
    print(f"wrote {Path(args.out) / card['file']} (sha256 {card['sha256'][:12]}...) and its card "
          f"in {Path(args.out) / pretrained.MANIFEST}")
    print(f"load it with zoo.pretrained.register_directory({str(args.out)!r}); "
          f"zoo.get({args.name!r}, weights={args.export_pretrained!r})  [{key}]")


def _run_settings(args):
    """What identifies a run, for `--resume` to compare against."""
    return {"name": args.name, "data": args.data, "epochs": args.epochs, "lr": args.lr,
            "seed": args.seed, "set": _parse_overrides(args.set),
            "export_pretrained": args.export_pretrained}


def _interrupted(run):
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
                                        verbose=_verbosity(args),
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


def cmd_train(args):
    if (args.name, args.data) in recipes.RECIPES:
        return _train_recipe(args)
    args.epochs = TRAIN_DEFAULTS["epochs"] if args.epochs is None else args.epochs
    args.lr = TRAIN_DEFAULTS["lr"] if args.lr is None else args.lr
    if args.export_pretrained:
        pretrained.check_tag(args.export_pretrained)
    overrides = _parse_overrides(args.set)
    # Everything is checked before the first epoch: the run folder, the data, the settings.
    run = RunFolder(args.out, _run_settings(args), overwrite=args.overwrite,
                    resume=args.resume).check()
    corpus = _load_corpus(args.data, args.seed)
    zoo.get(args.name, input_dim=corpus.input_dim, outputs=len(corpus.dimensions), **overrides)
    with run:
        try:
            model, summary = train_on_corpus(args.name, corpus, run.path, args.epochs, args.lr,
                                             overrides, args.seed, verbose=_verbosity(args),
                                             checkpoint=run.checkpoint)
        except KeyboardInterrupt:
            raise _interrupted(run) from None
        if args.export_pretrained:
            _export(model, args, _corpus_card(args, corpus, summary, model), run.path)
        run.publish()
    print(f"dev scores ({summary['dev_recordings']} recordings, all frames pooled):")
    _print_scores(summary["dev"])
    print(f"wrote {args.out}/model.keras, metrics.json, predictions.png")


def _corpus_card(args, corpus, summary, model):
    dev = corpus.subset("dev")
    overrides = " ".join(f"--set {k}={json.dumps(v)}" for k, v in _parse_overrides(args.set).items())
    return {
        "settings": recipes.settings_of(model),
        "dataset": args.data,
        "split": f"train {len(corpus.subset('train'))} / dev {len(dev)} recordings",
        "metrics": {f"dev_ccc_{d}": v for d, v in summary["dev"]["ccc"].items()},
        "tolerance": {},
        "licence": "the data's own licence (AVEC 2016 / RECOLA: by agreement)",
        "head": ["head"],
        "head_settings": ["outputs"],
        "recipe": (f"zoo train {args.name} --data {args.data} --epochs {args.epochs} --lr "
                   f"{args.lr} --seed {args.seed} {overrides} --out {args.out} "
                   f"--export-pretrained {args.export_pretrained}").replace("  ", " "),
        "examples": {"about": f"the first 50 frames of {dev.names[0]}",
                     "inputs": pretrained.input_spec(dev.features[0][None, :50].astype("float32"))},
    }


def cmd_pretrained(args):
    for key in zoo.list_pretrained(args.pattern):
        card = pretrained.card(key)
        print(f"{key:40s} {card['dataset']}: {pretrained._format_metrics(card)}")


def _trust(args):
    for handle in args.trust_hub or []:
        zoo.hub.trust(handle)


def _load_model(path, args):
    """A `.keras` file in safe mode, hub modules only from the trust list."""
    if not Path(path).is_file():
        raise UsageError(f"no model file at {path}")
    import zipfile

    if not zipfile.is_zipfile(path):
        raise UsageError(f"{path} is not a .keras file (a .keras file is a zip archive); it "
                         "is damaged or of another kind.")
    _trust(args)
    return keras.models.load_model(path)


def cmd_evaluate(args):
    model = _load_model(args.model, args)
    corpus = _load_corpus(args.data)
    if args.split:
        corpus = corpus.subset(args.split)
    scores = score_corpus(model, corpus)
    print(json.dumps({"model": args.model, "split": args.split or "all",
                      "recordings": len(corpus), **scores}, indent=2))


def _load_sequences(spec, split):
    """A bundled UEA set by name, or a `.ts` file."""
    if spec in zoo.data.uea.BUNDLED:
        return zoo.data.load_uea(spec, split)
    if Path(spec).is_file():
        return zoo.data.read_ts(spec)
    raise UsageError(
        f"--data {spec!r} is neither a .ts file nor a bundled set "
        f"({', '.join(zoo.data.uea.BUNDLED)})."
    )


def cmd_recognize(args):
    """Infers PB vectors for sequences with a trained RNNPB; writes CSVs and a plot."""
    out = Path(args.out)
    written = [out / n for n in ("pb.csv", "distances.csv", "pb_space.png")]
    if not args.overwrite and any(p.exists() for p in written):
        raise UsageError(f"{out} already holds results of a recognition; pass --overwrite to "
                         "replace them, or choose another --out.")
    model = _load_model(args.model, args)  # safe mode: no code runs from the file
    if not isinstance(model, zoo.models.RNNPB):
        raise UsageError(f"{args.model} holds a {type(model).__name__}, not an RNNPB.")
    data = _load_sequences(args.data, args.split)
    show = args.progress or (sys.stdout.isatty() and not args.quiet)
    pbs, trace = model.recognize(data, steps=args.steps, verbose=1 if show else 0)
    columns = {f"pb_{k + 1}": pbs[:, k] for k in range(pbs.shape[1])}
    labels = [data.classes[i] for i in data.labels] if len(data.classes) else None
    frame = pd.DataFrame({"sequence": range(len(pbs)), **columns,
                          "error": trace[-1]})
    if labels is not None:
        frame.insert(1, "label", labels)
    extra = ""
    print(f"recognised {len(pbs)} sequences in {args.steps} updates: error per frame and "
          f"channel {trace[0].mean():.4f} -> {trace[-1].mean():.4f}")
    if model.sequence_labels is not None:
        reference = model.pb_table.numpy()
        frame["nearest_class"] = pb_space.nearest_class_mean(reference, model.sequence_labels, pbs)
        if labels is not None:
            table = pb_space.pb_distance_table(pbs, labels, reference=reference,
                                               reference_labels=model.sequence_labels)
            print(table.round(3).to_string())
            accuracy = float(np.mean(frame["nearest_class"] == frame["label"]))
            print(f"nearest-class-mean accuracy: {accuracy:.3f}")
            write_text(out / "distances.csv", table.to_csv())
            pb_space.plot_pb_space(reference, model.sequence_labels, out / "pb_space.png",
                                   recognised=pbs, recognised_labels=labels)
            extra = ", distances.csv, pb_space.png"
    write_text(out / "pb.csv", frame.to_csv(index=False))
    print(f"wrote {out / 'pb.csv'}{extra}")


def cmd_demo(args):
    """Generate AVEC-layout data on disk, read it back, train emotion_downup, score dev."""
    out = Path(args.out)
    data_dir = out / "data"
    print(f"writing generated AVEC-layout recordings to {data_dir} ...")
    corpus = zoo.data.synthetic.recola_like(train=9, dev=9, length=args.length,
                                            input_dim=args.input_dim, seed=args.seed)
    zoo.data.save_avec(corpus, data_dir)
    corpus = zoo.data.load_avec(data_dir)
    print(f"training emotion_downup with CCCLoss on {len(corpus.subset('train'))} "
          f"recordings x {args.length} frames x {corpus.input_dim} features")
    _, summary = train_on_corpus("emotion_downup", corpus, out, args.epochs, args.lr,
                                 seed=args.seed, verbose=_verbosity(args))
    print(f"dev CCC per dimension ({summary['dev_recordings']} recordings, "
          f"{summary['train_seconds']:.0f} s training):")
    _print_scores(summary["dev"])
    print(f"plot of predictions against truth: {out / 'predictions.png'}")


def build_parser():
    parser = _Parser(prog="zoo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("list", help="list registered models",
                       description="Print the names of registered models, one a line.")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. 'emotion_*'")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="parameters, receptive field, paper, settings, pretrained cards",
                       description="Print what zoo knows of a model as JSON.")
    p.add_argument("name", help="a registered model name (see `zoo list`)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("pretrained", help="list pretrained weights and their scores",
                       description="Print every pretrained entry with its data and held-out "
                                   "score.")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern over name.tag")
    p.set_defaults(func=cmd_pretrained)

    recipes_help = "; ".join(f"{n} --data {d}" for n, d in recipes.RECIPES)
    p = sub.add_parser(
        "train", help="train a model: a pretrained entry's recipe, or a regressor on "
        "AVEC-layout recordings (train_* / dev_*)",
        description="Train a model. Nothing already made is lost: every argument is checked "
                    "before training; the run works in .OUT.partial/ beside OUT and appears as "
                    "OUT whole when it ends; an existing non-empty OUT is refused unless "
                    "--overwrite, and a second run into the same OUT is refused while the "
                    "first is alive. On your own data (and in the char_lm recipe) every epoch "
                    "is checkpointed: after "
                    "Ctrl-C, a kill or a crash, run the same command with --resume to "
                    "continue from the last finished epoch. A NaN loss stops the run and "
                    "keeps the last good checkpoint. Model files are opened in Keras's safe "
                    "mode: a TF Hub module that a file names opens only if it is on your trust "
                    "list (zoo.hub.trust, the ZOO_TRUSTED_HUB variable, or --trust-hub on "
                    "`zoo evaluate` and `zoo recognize`).")
    p.add_argument("name", help="a registered model name (see `zoo list`)")
    p.add_argument("--data", required=True,
                   help="AVEC 2016-layout folder (or avec2016:PATH), 'recola_like', or the "
                        f"bundled data of a recipe ({recipes_help})")
    p.add_argument("--out", required=True,
                   help="folder for model.keras, metrics.json, predictions.png; with a recipe "
                        "and --export-pretrained, the manifest folder that gains the entry")
    p.add_argument("--export-pretrained", metavar="TAG",
                   help="also write TAG's weights file and card into OUT/manifest.json")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a non-empty OUT (or an entry of the same TAG), discarding an "
                        "interrupted run")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted run into OUT from its last checkpoint "
                        "(the other arguments must be those of that run)")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2),
                   help="Keras fit verbosity: 0 silent, 1 progress bar, 2 a line per epoch "
                        "(default: 1 in a terminal, 2 otherwise)")
    p.add_argument("--quiet", action="store_true", help="no progress output (--verbose 0)")
    p.add_argument("--epochs", type=_positive_int,
                   help=f"epochs on your own data (default: {TRAIN_DEFAULTS['epochs']})")
    p.add_argument("--lr", type=_learning_rate,
                   help=f"Adam learning rate (default: {TRAIN_DEFAULTS['lr']:g})")
    p.add_argument("--seed", type=int, default=0,
                   help="random seed of the weights and of each epoch's data order")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="model hyperparameter override, e.g. --set filters=64")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="corpus-level CCC and RMSE of a saved model",
                       description="Score a saved regressor the AVEC way: every frame of every "
                                   "recording of the split pooled, CCC and RMSE per dimension.")
    p.add_argument("model", help="a .keras file written by `zoo train`")
    p.add_argument("--data", required=True,
                   help="AVEC 2016-layout folder (or avec2016:PATH), or 'recola_like'")
    p.add_argument("--split", default="dev", help="recording-name prefix; '' for all")
    p.add_argument("--trust-hub", action="append", metavar="PATH",
                   help="let the model file open this TF Hub module (folder or URL); repeatable")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("recognize", help="infer PB vectors of sequences with a trained RNNPB",
                       description="Infer one PB vector per sequence with a trained RNNPB "
                                   "(weights frozen); write pb.csv and, when the model keeps "
                                   "its training labels, distances.csv and pb_space.png.")
    p.add_argument("model", help="a .keras file holding a trained RNNPB")
    p.add_argument("--data", required=True,
                   help="a bundled UEA set (BasicMotions, ...) or a .ts file")
    p.add_argument("--split", default="test", help="split of a bundled set")
    p.add_argument("--steps", type=_positive_int, default=400, help="Adadelta updates")
    p.add_argument("--out", default="recognized", help="folder for pb.csv, distances, plot")
    p.add_argument("--overwrite", action="store_true", help="replace earlier results in OUT")
    p.add_argument("--trust-hub", action="append", metavar="PATH",
                   help="let the model file open this TF Hub module (folder or URL); repeatable")
    p.add_argument("--progress", action="store_true",
                   help="show a progress bar even when the output is not a terminal")
    p.add_argument("--quiet", action="store_true", help="no progress bar in a terminal either")
    p.set_defaults(func=cmd_recognize)

    p = sub.add_parser("demo", help="the main job: train emotion_downup on generated data",
                       description="Write generated AVEC-layout recordings, read them back, "
                                   "train emotion_downup with the CCC loss and score dev.")
    p.add_argument("--out", default="demo_out",
                   help="folder for the data, model.keras, metrics.json and the plot")
    p.add_argument("--epochs", type=_positive_int, default=40, help="training epochs")
    p.add_argument("--lr", type=_learning_rate, default=1e-3, help="Adam learning rate")
    p.add_argument("--length", type=_positive_int, default=7501,
                   help="frames per generated recording")
    p.add_argument("--input-dim", type=_positive_int, default=160,
                   help="features per frame of the generated recordings")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and the weights")
    p.add_argument("--quiet", action="store_true",
                   help="no progress output (default: a bar in a terminal, a line per epoch "
                        "otherwise)")
    p.set_defaults(func=cmd_demo)
    return parser


#: What a user can cause with a bad argument or file; reported in one line, exit status 2.
USER_ERRORS = (UsageError, ValueError, TypeError, OSError, EOFError, ImportError, RunError,
               LockedError, TrainingDiverged)


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        args.func(args)
    except USER_ERRORS as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"zoo: {message}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Interrupted) as error:
        print(f"zoo: {str(error) or 'interrupted'}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
