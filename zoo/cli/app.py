"""The `zoo` command line: list and describe models and pretrained weights, train,
evaluate, recognise with an RNNPB, and run the demo.

A user error (a bad argument, a missing or malformed file, an unusable --out) is one line
on stderr and exit status 2, never a traceback. `zoo VERB --help` describes each verb.
"""

#: What this module holds, apart from the help text above: the parser, `main`, and the
#: verbs that read data only (`list`, `info NAME`, `pretrained`), which import no Keras:
#: `zoo --help` and `zoo list` answer at once. The other verbs are named "module:function"
#: and imported when asked for; the work itself is done by `zoo.recipes`,
#: `zoo.pretrained` and the models.

import importlib
import json
import sys
import traceback
from pathlib import Path

from zoo import catalog, pretrained, recipes
from zoo.cli import export as cli_export
from zoo.cli import quiet
from zoo.cli.args import (Interrupted, Parser, UsageError, auto_or_positive_int,
                          learning_rate, positive_int, setting, user_errors)
from zoo.data.uea import BUNDLED
from zoo.recipes.training import DEFAULTS


def cmd_list(args):
    rows = catalog.listing(args.pattern, pretrained=args.pretrained)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    if not rows:
        which = " with pretrained weights" if args.pretrained else ""
        raise UsageError(f"no registered model{which} matches {args.pattern!r} (see `zoo list`).")
    width = max(len(row["name"]) for row in rows)
    tags = {row["name"]: ",".join(row["pretrained"]) or "-" for row in rows}
    tag_width = max(len("pretrained"), *(len(t) for t in tags.values()))
    print(f"{'name':{width}s}  {'task':9s}  {'pretrained':{tag_width}s}  summary")
    for row in rows:
        print(f"{row['name']:{width}s}  {row['task'] or '-':9s}  {tags[row['name']]:{tag_width}s}"
              f"  {row['summary']}")


def cmd_info(args):
    if not args.name.strip():
        raise UsageError("zoo info takes a registered name, NAME.TAG of a pretrained entry, "
                         "or an export's path; received an empty name.")
    if Path(args.name).exists():
        from zoo.export.cards import read_card  # without TensorFlow

        print(json.dumps(read_card(args.name), indent=2, default=str))
        return
    entries = pretrained.list_pretrained()
    if args.name in entries:
        print(json.dumps(pretrained.card(args.name), indent=2, default=str))
        return
    model, dot, _ = args.name.partition(".")
    if dot and model in catalog.list_models():
        tags = [key.split(".", 1)[1] for key in entries if key.startswith(f"{model}.")]
        raise UsageError(f"{args.name}: no such pretrained entry; {model} has "
                         f"{', '.join(tags) if tags else 'none'} (see `zoo pretrained`).")
    looks_like_file = "/" in args.name or Path(args.name).suffix in (".keras", ".tflite",
                                                                     ".onnx", ".h5")
    if looks_like_file:
        raise UsageError(f"{args.name}: no such file or folder (`zoo info` takes a registered "
                         "name, NAME.TAG of a pretrained entry, or an export's path)")
    print(json.dumps(catalog.info(args.name), indent=2, default=str))


def cmd_data_info(args):
    # Without TensorFlow: the index is JSON, the shards are hashed, and the first records
    # are read by zoo's own tf.train.Example reader (zoo.data.records).
    from zoo.data import shards

    print(f"{args.folder}: {shards.describe(shards.read_index(args.folder))}; every shard "
          "matches its sha256")


def cmd_pretrained(args):
    keys = pretrained.list_pretrained(args.pattern)
    if not keys:
        raise UsageError(f"no pretrained entry matches {args.pattern!r} (see `zoo pretrained`).")
    for key in keys:
        card = pretrained.card(key)
        print(f"{key:40s} {card['dataset']}: {pretrained.format_metrics(card)}")


def build_parser():
    parser = Parser(prog="zoo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("list", help="list registered models",
                       description="A table of the registered models: name, the data it takes "
                                   "(its task), its pretrained tags and a one-line summary.")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. 'emotion_*'")
    p.add_argument("--pretrained", action="store_true",
                   help="only models with pretrained weights")
    p.add_argument("--json", action="store_true", help="the rows as JSON, for scripts")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="parameters, receptive field, paper, settings, pretrained cards",
                       description="Print what zoo knows of a model as JSON, or the card an "
                                   "export carries.")
    p.add_argument("name", help="a registered model name (see `zoo list`), or a SavedModel "
                                "folder, .tflite or .onnx file written by `zoo export`")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("pretrained", help="list pretrained weights and their scores",
                       description="Print every pretrained entry with its data and held-out "
                                   "score.")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern over name.tag")
    p.set_defaults(func=cmd_pretrained)

    recipes_help = "; ".join(f"{n} --data {d}" for n, d in recipes.RECIPES)
    p = sub.add_parser(
        "train", help="train a model: a pretrained entry's recipe, a regressor on "
        "AVEC-layout recordings (train_* / dev_*), or any model on packed shards",
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
                    "list (hub.trust, the ZOO_TRUSTED_HUB variable, or --trust-hub on "
                    "`zoo evaluate` and `zoo recognize`).")
    p.add_argument("name", help="a registered model name (see `zoo list`)")
    p.add_argument("--data", required=True,
                   help="AVEC 2016-layout folder (or avec2016:PATH), 'recola_like', "
                        "shards:PATH (a folder from `zoo data pack`, streamed from disk), or "
                        f"the bundled data of a recipe ({recipes_help})")
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
    p.add_argument("--epochs", type=positive_int,
                   help=f"epochs on your own data (default: {DEFAULTS['epochs']})")
    p.add_argument("--lr", type=learning_rate,
                   help=f"Adam learning rate (default: {DEFAULTS['learning_rate']:g})")
    p.add_argument("--seed", type=int, default=0,
                   help="random seed of the weights and of each epoch's data order")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", type=setting,
                   help="model hyperparameter override, e.g. --set filters=64")
    p.add_argument("--batch-size", type=positive_int, default=8,
                   help="recordings per global batch, with --data shards:PATH")
    p.add_argument("--devices", metavar="all|N",
                   help="with --data shards:PATH, train data-parallel over N devices (or all): "
                        "tf.distribute.MirroredStrategy on TensorFlow, "
                        "keras.distribution.DataParallel on JAX")
    p.add_argument("--distributed", action="store_true",
                   help="with --data shards:PATH on KERAS_BACKEND=jax, join a multi-process "
                        "run (jax.distributed); every process runs the same command with its "
                        "own --process-id; process 0 writes OUT")
    p.add_argument("--coordinator", metavar="HOST:PORT",
                   help="address of process 0 (default: $ZOO_COORDINATOR or "
                        "$JAX_COORDINATOR_ADDRESS)")
    p.add_argument("--num-processes", type=positive_int,
                   help="processes in the run (default: $ZOO_NUM_PROCESSES or "
                        "$JAX_NUM_PROCESSES)")
    p.add_argument("--process-id", type=int,
                   help="this process, 0..N-1 (default: $ZOO_PROCESS_ID or $JAX_PROCESS_ID)")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="seconds to wait for every process to arrive")
    p.set_defaults(func="zoo.cli.train:cmd_train")

    p = sub.add_parser("data", help="pack a corpus into shards that training streams from "
                                    "disk; describe and check a shard folder",
                       description="`zoo data pack SOURCE --out SHARDS` writes an AVEC-layout "
                                   "folder, a .ts or .txt file or a bundled UEA set into TFRecord "
                                   "shards and an index (sizes, sha256); `zoo data info SHARDS` "
                                   "checks every shard and describes the pack. Train with "
                                   "`zoo train NAME --data shards:SHARDS`.")
    verbs = p.add_subparsers(dest="data_command", required=True, parser_class=Parser,
                             help="pack: write shards; info: check and describe them")
    q = verbs.add_parser("pack", help="write a corpus into shards",
                         description="Write a corpus into TFRecord shards and an index; the "
                                     "folder appears whole when every shard is written.")
    q.add_argument("source", help="AVEC 2016-layout folder (or avec2016:PATH), a .ts file, a "
                                  "UTF-8 .txt file (windows of characters for char_lm), or a "
                                  f"bundled UEA set ({', '.join(BUNDLED)})")
    q.add_argument("--window", type=positive_int, default=100,
                   help="characters per window of a .txt source")
    q.add_argument("--out", required=True, help="the shard folder to write")
    q.add_argument("--shard-mb", type=positive_int, default=64, help="target MiB per shard")
    q.add_argument("--overwrite", action="store_true", help="replace a non-empty OUT")
    q.set_defaults(func="zoo.cli.verbs:cmd_data_pack")
    q = verbs.add_parser("info", help="check a shard folder and describe it",
                         description="Check every shard against the index (size and sha256) "
                                     "and print what the pack holds.")
    q.add_argument("folder", help="a folder written by `zoo data pack`")
    q.set_defaults(func=cmd_data_info)

    cli_export.add_parser(sub)

    p = sub.add_parser("evaluate", help="corpus-level CCC and RMSE of a saved model",
                       description="Score a saved regressor the AVEC way: every frame of every "
                                   "recording of the split pooled, CCC and RMSE per dimension.")
    p.add_argument("model", help="a .keras file written by `zoo train`")
    p.add_argument("--data", required=True,
                   help="AVEC 2016-layout folder (or avec2016:PATH), or 'recola_like'")
    p.add_argument("--split", default="dev", help="recording-name prefix; '' for all")
    p.add_argument("--trust-hub", action="append", metavar="PATH",
                   help="let the model file open this TF Hub module (folder or URL); repeatable")
    p.add_argument("--json", action="store_true",
                   help="the scores as JSON (model, split, recordings, ccc, rmse)")
    p.set_defaults(func="zoo.cli.verbs:cmd_evaluate")

    p = sub.add_parser("recognize", help="infer PB vectors of sequences with a trained RNNPB",
                       description="Infer one PB vector per sequence with a trained RNNPB "
                                   "(weights frozen); write pb.csv and, when the model keeps "
                                   "its training labels, distances.csv and pb_space.png.")
    p.add_argument("model", help="a .keras file holding a trained RNNPB")
    p.add_argument("--data", required=True,
                   help="a bundled UEA set (BasicMotions, ...) or a .ts file")
    p.add_argument("--split", default="test", help="split of a bundled set")
    p.add_argument("--steps", type=auto_or_positive_int, default="auto",
                   help="Adadelta updates, or 'auto': 100 to 1000, until a chunk of 25 lowers "
                        "the mean error by less than 0.1%%")
    p.add_argument("--starts", type=auto_or_positive_int, default="auto",
                   help="starting points per sequence (the best is kept), or 'auto': "
                        "min(8, 1 + training sequences // 8)")
    p.add_argument("--out", default="recognized", help="folder for pb.csv, distances, plot")
    p.add_argument("--overwrite", action="store_true", help="replace earlier results in OUT")
    p.add_argument("--trust-hub", action="append", metavar="PATH",
                   help="let the model file open this TF Hub module (folder or URL); repeatable")
    p.add_argument("--progress", action="store_true",
                   help="show a progress bar even when the output is not a terminal")
    p.add_argument("--quiet", action="store_true", help="no progress bar in a terminal either")
    p.set_defaults(func="zoo.cli.verbs:cmd_recognize")

    p = sub.add_parser("demo", help="the main job: train emotion_downup on generated data",
                       description="Write generated AVEC-layout recordings, read them back, "
                                   "train emotion_downup with the CCC loss and score dev. OUT "
                                   "appears whole when the demo ends; an existing non-empty "
                                   "OUT is refused unless --overwrite, which replaces only an "
                                   "earlier demo's files.")
    p.add_argument("--out", default="demo_out",
                   help="folder for the data, model.keras, metrics.json and the plot")
    p.add_argument("--epochs", type=positive_int, default=40, help="training epochs")
    p.add_argument("--lr", type=learning_rate, default=1e-3, help="Adam learning rate")
    p.add_argument("--length", type=positive_int, default=7501,
                   help="frames per generated recording")
    p.add_argument("--input-dim", type=positive_int, default=160,
                   help="features per frame of the generated recordings")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and the weights")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier demo's files in OUT (never other files)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress output (default: a bar in a terminal, a line per epoch "
                        "otherwise)")
    p.set_defaults(func="zoo.cli.train:cmd_demo")
    return parser


def verb(func):
    """The function of a verb: itself, or the one a "module:function" string names,
    imported with TensorFlow's start-up lines kept off stderr (`zoo.cli.quiet`)."""
    if callable(func):
        return func
    module, name = func.split(":")
    quiet.import_tensorflow()
    return getattr(importlib.import_module(module), name)


def _watched():
    """The watch module when this process is in a multi-process run, else None (it is
    never imported here)."""
    watch = sys.modules.get("zoo.distribute.watch")
    return watch if watch is not None and watch.active() is not None else None


def _tell_the_others(message, status):
    """In a multi-process run, makes every other process stop too, naming this one (and
    exits: JAX's shutdown would wait for them); nothing otherwise."""
    if _watched() is not None:
        _watched().fail(message, status)


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        verb(args.func)(args)
    except (KeyboardInterrupt, Interrupted) as error:
        message = str(error) or "interrupted"
        print(f"zoo: {message}", file=sys.stderr)
        _tell_the_others(message, 130)
        return 130
    except Exception as error:
        if not isinstance(error, user_errors()):
            if _watched() is not None:
                traceback.print_exc()  # a fault: its traceback, then the others stop too
                _tell_the_others(f"{type(error).__name__}: {error}", 1)
            raise
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"zoo: {message}", file=sys.stderr)
        status = getattr(error, "exit_status", 2)
        _tell_the_others(message, status)
        return status
    return 0
