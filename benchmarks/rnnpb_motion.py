"""RNNPB on real motion data (issue 4): learn on train, recognise test, stream, continue.

For each set: learn an RNNPB on the training split with `zoo.recipes.motion.SETTINGS` (labels not
used by learning), recognise the test split, and print the distance table between class
means of training and recognised PBs (the paper's Tables IV-V), the nearest-class-mean
accuracy, per-frame accuracy of `recognize_stream` on concatenated test sequences, and the
normalised MSE of a 20-frame closed-loop continuation against repeating the last frame.
Writes the PB-space plot of each set and seed to `--out`.

    .venv/bin/python benchmarks/rnnpb_motion.py [--sets BasicMotions PickupGestureWiimoteZ]
        [--seeds 0 1 2] [--out rnnpb_out]
"""

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pandas as pd  # noqa: E402

import zoo  # noqa: E402
from zoo.models.rnnpb.pb_space import plot_pb_space  # noqa: E402
from zoo.models.rnnpb.reports import (continuation_report, recognition_report,  # noqa: E402
                                      stream_report)
from zoo.recipes.motion import SETTINGS, learn_uea  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["BasicMotions", "PickupGestureWiimoteZ"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", default="rnnpb_out")
    parser.add_argument("--no-stream", action="store_true")
    args = parser.parse_args(argv)
    pd.set_option("display.width", 160)
    for name in args.sets:
        test = zoo.data.load_uea(name, "test")
        accuracies = []
        for seed in args.seeds:
            start = time.perf_counter()
            model, train = learn_uea(name, seed=seed)
            learn_s = time.perf_counter() - start
            recipe = SETTINGS[name]
            report = recognition_report(model, test, recipe["steps"], recipe["starts"])
            accuracies.append(report["accuracy"])
            print(f"\n== {name} seed {seed}: learnt in {learn_s:.0f} s, recognised "
                  f"{len(test)} test sequences in {report['seconds']:.1f} s "
                  f"(error {report['errors'][0]:.3f} -> {report['errors'][1]:.3f})")
            print(report["table"].round(3).to_string())
            print(f"diagonal smallest in every column: {report['diagonal_smallest']}")
            print(f"nearest-class-mean accuracy on the test split: {report['accuracy']:.3f}")
            path = Path(args.out) / f"{name}_seed{seed}_pb_space.png"
            plot_pb_space(model.pb_table.numpy(), model.sequence_labels, path,
                          recognised=report["pbs"], recognised_labels=report["labels"],
                          title=f"{name}, seed {seed}")
            print(f"PB space plot: {path}")
            if not args.no_stream:
                stream = stream_report(model, test)
                print(f"stream ({stream['frames']} frames, {stream['changes']} activity changes, "
                      f"window 30, 5 updates a frame, {stream['seconds']:.0f} s): per-frame "
                      f"accuracy after warm-up {stream['accuracy_after_warmup']:.3f} "
                      f"(all frames {stream['accuracy_all_frames']:.3f})")
            length = min(len(s) for s in test.sequences)
            context = min(60, length - 20)
            if context >= 10:
                cont = continuation_report(model, test, context=context, steps=recipe["steps"],
                                           starts=recipe["starts"])
                print(f"continuation of {cont['sequences']} test sequences, 20 frames after "
                      f"{context}: normalised MSE generated {cont['nmse_generated']:.3f}, "
                      f"repeating the last frame {cont['nmse_repeat_last']:.3f}")
        print(f"\n== {name}: nearest-class-mean test accuracy over seeds {args.seeds}: "
              f"median {statistics.median(accuracies):.3f}, min {min(accuracies):.3f}, "
              f"max {max(accuracies):.3f}")


if __name__ == "__main__":
    main()
