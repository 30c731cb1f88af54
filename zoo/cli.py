"""The `zoo` command line: list, info, train, evaluate, recognize, demo."""

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import zoo  # noqa: E402
from zoo import pb_space, pretrained, recipes  # noqa: E402
from zoo.evaluation import score_corpus  # noqa: E402
from zoo.files import atomic_path, write_text  # noqa: E402
from zoo.training import train_on_corpus  # noqa: E402

BUILTIN_DATA = {"recola_like": "generated AVEC-layout recordings (zoo.data.synthetic)"}


def _load_corpus(spec, seed=0):
    if spec == "recola_like":
        return zoo.data.synthetic.recola_like(seed=seed).znorm()
    if spec.startswith("avec2016:"):
        spec = spec.split(":", 1)[1]
    if not Path(spec).is_dir():
        raise SystemExit(
            f"zoo: --data {spec!r} is neither an AVEC-layout folder nor a built-in set "
            f"({', '.join(BUILTIN_DATA)}). Recipes on bundled data: "
            + "; ".join(f"zoo train {n} --data {d}" for n, d in recipes.RECIPES)
        )
    return zoo.data.load_avec(spec)


def _parse_overrides(pairs):
    overrides = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"zoo: --set expects KEY=VALUE. Received {pair!r}.")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


def cmd_list(args):
    for name in zoo.list_models(args.pattern):
        print(name)


def cmd_info(args):
    print(json.dumps(zoo.info(args.name), indent=2, default=str))


def _print_scores(scores):
    for dim in scores["ccc"]:
        print(f"  {dim:10s} CCC {scores['ccc'][dim]:.3f}   RMSE {scores['rmse'][dim]:.3f}")


def _export(model, args, fields):
    card = pretrained.export(model, args.name, args.export_pretrained, args.out, **fields)
    key = f"{args.name}.{args.export_pretrained}"
    print(f"wrote {Path(args.out) / card['file']} (sha256 {card['sha256'][:12]}...) and its card "
          f"in {Path(args.out) / pretrained.MANIFEST}")
    print(f"load it with zoo.pretrained.register_directory({str(args.out)!r}); "
          f"zoo.get({args.name!r}, weights={args.export_pretrained!r})  [{key}]")


def cmd_train(args):
    if (args.name, args.data) in recipes.RECIPES:
        # A shipped entry's recipe: bundled data, fixed settings.
        model, fields = recipes.run(args.name, args.data, seed=args.seed, verbose=args.verbose)
        for metric, value in fields["metrics"].items():
            print(f"  {metric}: {value:.4f}")
        fields["recipe"] = recipes.command(args.name, args.data, args.export_pretrained or "TAG",
                                           args.seed)
        if args.export_pretrained:
            _export(model, args, fields)
        else:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            with atomic_path(out / "model.keras") as tmp:
                model.save(tmp)
            print(f"wrote {out / 'model.keras'}")
        return
    corpus = _load_corpus(args.data, args.seed)
    model, summary = train_on_corpus(args.name, corpus, args.out, args.epochs, args.lr,
                                     _parse_overrides(args.set), args.seed)
    print(f"dev scores ({summary['dev_recordings']} recordings, all frames pooled):")
    _print_scores(summary["dev"])
    print(f"wrote {args.out}/model.keras, metrics.json, predictions.png")
    if args.export_pretrained:
        dev = corpus.subset("dev")
        overrides = " ".join(f"--set {k}={json.dumps(v)}" for k, v in _parse_overrides(args.set).items())
        _export(model, args, {
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
        })


def cmd_pretrained(args):
    for key in zoo.list_pretrained(args.pattern):
        card = pretrained.card(key)
        print(f"{key:40s} {card['dataset']}: {pretrained._format_metrics(card)}")


def cmd_evaluate(args):
    if not Path(args.model).is_file():
        raise SystemExit(f"zoo: no model file at {args.model}")
    model = keras.models.load_model(args.model)
    corpus = _load_corpus(args.data)
    if args.split:
        corpus = corpus.subset(args.split)
    scores = score_corpus(model, corpus)
    print(json.dumps({"model": args.model, "recordings": len(corpus), **scores}, indent=2))


def _load_sequences(spec, split):
    """A bundled UEA set by name, or a `.ts` file."""
    if spec in zoo.data.uea.BUNDLED:
        return zoo.data.load_uea(spec, split)
    if Path(spec).is_file():
        return zoo.data.read_ts(spec)
    raise SystemExit(
        f"zoo: --data {spec!r} is neither a .ts file nor a bundled set "
        f"({', '.join(zoo.data.uea.BUNDLED)})."
    )


def cmd_recognize(args):
    """Infers PB vectors for sequences with a trained RNNPB; writes CSVs and a plot."""
    if not Path(args.model).is_file():
        raise SystemExit(f"zoo: no model file at {args.model}")
    model = keras.models.load_model(args.model)  # safe_mode: no code runs from the file
    if not isinstance(model, zoo.models.RNNPB):
        raise SystemExit(f"zoo: {args.model} holds a {type(model).__name__}, not an RNNPB.")
    data = _load_sequences(args.data, args.split)
    pbs, trace = model.recognize(data, steps=args.steps, verbose=1 if args.progress else 0)
    out = Path(args.out)
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
                                 seed=args.seed)
    print(f"dev CCC per dimension ({summary['dev_recordings']} recordings, "
          f"{summary['train_seconds']:.0f} s training):")
    _print_scores(summary["dev"])
    print(f"plot of predictions against truth: {out / 'predictions.png'}")


def build_parser():
    parser = argparse.ArgumentParser(prog="zoo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list registered models")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. 'emotion_*'")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="parameters, receptive field, paper, settings, pretrained cards")
    p.add_argument("name")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("pretrained", help="list pretrained weights and their scores")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern over name.tag")
    p.set_defaults(func=cmd_pretrained)

    recipes_help = "; ".join(f"{n} --data {d}" for n, d in recipes.RECIPES)
    p = sub.add_parser("train", help="train a model: a pretrained entry's recipe, or a "
                       "regressor on AVEC-layout recordings (train_* / dev_*)")
    p.add_argument("name")
    p.add_argument("--data", required=True,
                   help="AVEC 2016-layout folder (or avec2016:PATH), 'recola_like', or the "
                        f"bundled data of a recipe ({recipes_help})")
    p.add_argument("--out", required=True, help="folder for model.keras, metrics, plot")
    p.add_argument("--export-pretrained", metavar="TAG",
                   help="also write TAG's weights file and card into OUT/manifest.json")
    p.add_argument("--verbose", type=int, default=0, help="Keras fit verbosity (recipes)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="model hyperparameter override, e.g. --set filters=64")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="corpus-level CCC and RMSE of a saved model")
    p.add_argument("model", help="a .keras file written by `zoo train`")
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="dev", help="recording-name prefix; '' for all")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("recognize", help="infer PB vectors of sequences with a trained RNNPB")
    p.add_argument("model", help="a .keras file holding a trained RNNPB")
    p.add_argument("--data", required=True,
                   help="a bundled UEA set (BasicMotions, ...) or a .ts file")
    p.add_argument("--split", default="test", help="split of a bundled set")
    p.add_argument("--steps", type=int, default=400, help="Adadelta updates")
    p.add_argument("--out", default="recognized", help="folder for pb.csv, distances, plot")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.set_defaults(func=cmd_recognize)

    p = sub.add_parser("demo", help="the main job: train emotion_downup on generated data")
    p.add_argument("--out", default="demo_out")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--length", type=int, default=7501, help="frames per recording")
    p.add_argument("--input-dim", type=int, default=160)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except ValueError as error:
        print(f"zoo: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
