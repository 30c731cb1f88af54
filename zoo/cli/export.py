"""`zoo export`: a trained model to SavedModel, LiteRT or ONNX, with its card."""

import os
from pathlib import Path

from zoo import export, pretrained
from zoo.cli.args import UsageError, positive_int
from zoo.files import check_out


def add_parser(sub):
    p = sub.add_parser(
        "export", help="write a model as SavedModel, LiteRT or ONNX, with its card",
        description="Export a .keras file or a pretrained entry (NAME --weights TAG) to run "
                    "elsewhere. Every export has the signature `serve` (sequences in, "
                    "outputs out); causal models also get `step` (one frame and the state "
                    "in, the output and the new state out). The card travels inside the "
                    "export; `zoo info PATH` prints it.")
    p.add_argument("source", help="a .keras file, or a registered model name with --weights")
    p.add_argument("--weights", metavar="TAG", help="pretrained weights of a registered name")
    p.add_argument("--format", required=True, choices=export.FORMATS,
                   help="saved_model (a folder), litert (one .tflite file, builtin ops) or "
                        "onnx (one .onnx file per signature)")
    p.add_argument("--out", required=True, help="folder (saved_model) or file to write")
    p.add_argument("--batch", type=positive_int, help="fixed batch size (LiteRT: default 1)")
    p.add_argument("--steps", type=positive_int,
                   help="fixed frames per sequence (LiteRT: required, default for a "
                        "pretrained entry the length of its card's examples; ONNX: "
                        "optional, unrolls recurrent loops; without it the time axis "
                        "stays open)")
    p.add_argument("--quantize", choices=export.QUANTIZE, help="LiteRT weights: float16 or "
                                                                "int8 (dynamic range)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--streaming", dest="streaming", action="store_true", default=None,
                       help="require the step signature (refused for a non-causal model)")
    group.add_argument("--no-streaming", dest="streaming", action="store_false",
                       help="leave the step signature out")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier export of the same format at OUT (never other "
                        "files, the source or a folder holding it)")
    p.add_argument("--trust-hub", action="append", metavar="PATH",
                   help="let the model file open this TF Hub module; repeatable")
    p.set_defaults(func="zoo.cli.export:cmd_export")


def _source(args, load_model):
    """`(model, card fields, steps from the card or None)`."""
    import numpy as np

    from zoo.pretrained.loading import sha256

    if os.path.exists(args.source) or args.source.endswith(".keras"):
        if args.weights:
            raise UsageError("--weights goes with a registered name, not a .keras file")
        model = load_model(args.source, args)
        return model, {"source": Path(args.source).name, "source_sha256": sha256(args.source)}, None
    if not args.weights:
        raise UsageError(f"{args.source} is not a file; a registered name needs --weights TAG "
                         "(see `zoo pretrained`), or export a .keras file you trained")
    from zoo import catalog

    model = catalog.get(args.source, weights=args.weights)
    card = pretrained.card(f"{args.source}.{args.weights}", examples=True)
    fields = {"name": args.source, "weights": {
        "tag": args.weights, "sha256": card["sha256"], "dataset": card["dataset"],
        "split": card["split"], "metrics": card["metrics"]}}
    if card.get("preprocessing"):
        fields["preprocessing"] = card["preprocessing"]
    steps = None
    inputs = (card.get("examples") or {}).get("inputs")
    if isinstance(inputs, list) and inputs:          # several inputs (RNNPB: frames, pb)
        inputs = inputs[0]
    if isinstance(inputs, dict) and inputs.get("dtype") != "string":
        shape = np.asarray(inputs["value"]).shape
        steps = int(shape[1]) if len(shape) >= 2 else None
    return model, fields, steps


def cmd_export(args):
    from zoo.cli.verbs import load_model

    # Before the model is read: an --out that is (or holds, or lies in) the source, or that
    # is not an earlier export, is refused with nothing changed.
    sources = [args.source] if os.path.exists(args.source) else []
    check_out(args.out, f"an earlier {args.format} export", export.earlier_export(args.format),
              sources=sources, overwrite=args.overwrite)
    model, fields, card_steps = _source(args, load_model)
    steps = args.steps
    fixed = args.format == "litert" or (args.format == "onnx"
                                        and hasattr(model, "export_endpoints"))
    if steps is None and fixed and card_steps:
        steps = card_steps
        print(f"steps: {steps} (the length of the card's examples; --steps N to change)")
    card = export.export(model, args.out, format=args.format, batch=args.batch, steps=steps,
                         streaming=args.streaming, quantize=args.quantize, card=fields,
                         overwrite=args.overwrite)
    sizes = []
    for name in sorted(set(card["files"].values())):
        target = Path(args.out).parent / name if args.format != "saved_model" else Path(args.out)
        size = (sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
                if target.is_dir() else target.stat().st_size)
        sizes.append(f"{target} ({size / 1e6:.2f} MB)")
    print(f"wrote {', '.join(sizes)}; signatures: {', '.join(card['signatures'])}")
