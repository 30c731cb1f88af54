"""The `zoo` verbs that run a model or write data: evaluate, recognize, data pack.

`zoo.cli.app` imports this module (and Keras) only when one of them is asked for.
"""

import json
import sys
from pathlib import Path

import pandas as pd

from zoo import saving
from zoo.cli.args import UsageError
from zoo.cli.train import load_corpus, print_scores
from zoo.data import load_uea, read_ts
from zoo.data.uea import BUNDLED
from zoo.files import write_text
from zoo.models.emotion.evaluation import score_corpus
from zoo.models.rnnpb import RNNPB, pb_space, reports


def load_model(path, args):
    """A `.keras` file through `zoo.load_model`: checked, then Keras's safe mode, hub modules
    only from the trust list (`--trust-hub`)."""
    return saving.load_model(path, trust_hub=args.trust_hub or ())


def cmd_evaluate(args):
    model = load_model(args.model, args)
    corpus = load_corpus(args.data)
    if args.split:
        corpus = corpus.subset(args.split)
    scores = score_corpus(model, corpus)
    if args.json:
        print(json.dumps({"model": args.model, "split": args.split or "all",
                          "recordings": len(corpus), **scores}, indent=2))
        return
    print(f"{args.split or 'all'} scores ({len(corpus)} recordings, all frames pooled):")
    print_scores(scores)


def _load_sequences(spec, split):
    """A bundled UEA set by name, or a `.ts` file."""
    if spec in BUNDLED:
        return load_uea(spec, split)
    if Path(spec).is_file():
        return read_ts(spec)
    raise UsageError(
        f"--data {spec!r} is neither a .ts file nor a bundled set "
        f"({', '.join(BUNDLED)})."
    )


def cmd_recognize(args):
    """Infers PB vectors for sequences with a trained RNNPB; writes CSVs and a plot."""
    out = Path(args.out)
    written = [out / n for n in ("pb.csv", "distances.csv", "pb_space.png")]
    if not args.overwrite and any(p.exists() for p in written):
        raise UsageError(f"{out} already holds results of a recognition; pass --overwrite to "
                         "replace them, or choose another --out.")
    model = load_model(args.model, args)  # safe mode: no code runs from the file
    if not isinstance(model, RNNPB):
        raise UsageError(f"{args.model} holds a {type(model).__name__}, not an RNNPB.")
    data = _load_sequences(args.data, args.split)
    show = args.progress or (sys.stdout.isatty() and not args.quiet)
    pbs, trace = model.recognize(data, steps=args.steps, starts=args.starts,
                                 verbose=1 if show else 0)
    columns = {f"pb_{k + 1}": pbs[:, k] for k in range(pbs.shape[1])}
    labels = [data.classes[i] for i in data.labels] if len(data.classes) else None
    frame = pd.DataFrame({"sequence": range(len(pbs)), **columns,
                          "error": trace[-1]})
    if labels is not None:
        frame.insert(1, "label", labels)
    extra = ""
    print(f"recognised {len(pbs)} sequences in {len(trace)} updates: error per frame and "
          f"channel {trace[0].mean():.4f} -> {trace[-1].mean():.4f}")
    if model.sequence_labels is not None:
        report = reports.compare_with_training(model, pbs, labels)
        frame["nearest_class"] = report["nearest_class"]
        if labels is not None:
            print(report["table"].round(3).to_string())
            print(f"nearest-class-mean accuracy: {report['accuracy']:.3f}")
            write_text(out / "distances.csv", report["table"].to_csv())
            pb_space.plot_pb_space(model.pb_table.numpy(), model.sequence_labels,
                                   out / "pb_space.png", recognised=pbs, recognised_labels=labels)
            extra = ", distances.csv, pb_space.png"
    write_text(out / "pb.csv", frame.to_csv(index=False))
    print(f"wrote {out / 'pb.csv'}{extra}")


def cmd_data_pack(args):
    from zoo.data import packing, shards

    index = packing.pack(args.source, args.out, shard_bytes=args.shard_mb * 2**20,
                         overwrite=args.overwrite, window=args.window)
    print(f"wrote {args.out}: {shards.describe(index)}")
    print(f"train on it with: zoo train NAME --data shards:{args.out}")
