"""Tutorial 03: a recurrent net with parametric bias (RNNPB) on real motion recordings.

BasicMotions: a smart watch's accelerometer and gyroscope (6 channels, 10 Hz, 10 s) while
four people stand, walk, run and play badminton. The RNNPB (seed `000_*`) learns to
predict the next frame of every training sequence, each with its own parametric-bias (PB)
vector; the activity labels are never shown to it. Afterwards:

1. Learning: one PB per training sequence (the PB table); `OUT/pb_space.png` shows the
   training PBs, coloured by the activity they were never told.
2. Recognition: Adadelta finds the PB of each unseen test sequence with the weights fixed;
   each recognised PB is assigned the activity whose training PBs' mean is nearest, and the
   table of distances between class means (the paper's Tables IV-V) is printed.
3. Generation: from a recognised PB the network runs in closed loop and continues the
   recording; `OUT/generated.png` plots it against what really came next.
4. Streaming: a `PBStream` takes one frame at a time and returns the current PB.

    python tutorials/03_rnnpb_motion.py [--fast] [--out tutorial_out/03]

The full run learns the network from scratch (about a minute on 2 CPU cores) with the
recipe of the pretrained entry; `--fast` loads that entry, `zoo.get("rnnpb",
weights="basic_motions")`, and recognises with fewer updates. Writes `OUT/pb_space.png`,
`OUT/generated.png`, `OUT/distances.csv`, `OUT/model.keras` and `OUT/scores.json`.
"""

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo.models.rnnpb import pb_space  # noqa: E402
from zoo.files import write_text  # noqa: E402
from zoo.recipes.motion import learn_uea  # noqa: E402
from zoo.plots import FAST_NOTICE, pyplot, save_png  # noqa: E402

FULL = dict(steps=400, starts=8, context=60, horizon=30, stream_frames=100)
FAST = dict(steps=40, starts=1, context=30, horizon=10, stream_frames=10)


def plot_generation(context, truth, generated, channel_names, path, title):
    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(11, 5), sharex=True)
    # BasicMotions is sampled at 10 Hz: a frame is 0.1 s.
    t0, t1 = np.arange(len(context)) / 10, (len(context) + np.arange(len(truth))) / 10
    for k, ax in enumerate(axes.ravel()):
        ax.plot(t0, context[:, k], color="black", lw=1, label="seen (recognised from)")
        ax.plot(t1, truth[:, k], color="gray", lw=1, ls="--", label="real continuation")
        ax.plot(t1, generated[:, k], color="tab:red", lw=1.2, label="generated (closed loop)")
        ax.set_title(channel_names[k], fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("time (s)")
    axes[0, 0].set_ylabel("accelerometer")
    axes[1, 0].set_ylabel("gyroscope")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(title)
    return save_png(fig, path)


def run(out, fast=False, seed=0):
    settings = FAST if fast else FULL
    if fast:
        print(FAST_NOTICE)
    out = Path(out)
    train = zoo.data.load_uea("BasicMotions", "train")
    test = zoo.data.load_uea("BasicMotions", "test")

    # 1. Learning (or the pretrained entry trained by the same recipe).
    if fast:
        model = zoo.get("rnnpb", weights="basic_motions")
        print("loaded rnnpb.basic_motions:", zoo.pretrained.card("rnnpb.basic_motions")["notes"])
    else:
        model, train = learn_uea("BasicMotions", seed=seed)
        print(f"learnt {model.num_sequences} sequences in {int(model.epochs_trained.numpy())} epochs")
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.keras")
    table_pbs, table_labels = model.pb_table.numpy(), np.array(model.sequence_labels)

    # 2. Recognition of the test sequences, weights fixed.
    labels = np.array([test.classes[i] for i in test.labels])
    pbs, trace = model.recognize(test, steps=settings["steps"], starts=settings["starts"])
    predicted = pb_space.nearest_class_mean(table_pbs, table_labels, pbs)
    accuracy = float(np.mean(predicted == labels))
    table = pb_space.pb_distance_table(pbs, labels, reference=table_pbs,
                                       reference_labels=table_labels)
    print(table.round(3).to_string())
    print(f"recognised {len(pbs)} test sequences ({settings['steps']} updates x "
          f"{settings['starts']} starts): nearest-class-mean accuracy {accuracy:.3f}, "
          f"each class nearest itself: {pb_space.diagonal_is_smallest(table)}")
    write_text(out / "distances.csv", table.to_csv())
    pb_space.plot_pb_space(table_pbs, table_labels, out / "pb_space.png", recognised=pbs,
                           recognised_labels=labels)

    # 3. Generation from a PB recognised on the first frames of a test sequence.
    shown = 1
    sequence = test.sequences[shown]
    context, truth = sequence[: settings["context"]], sequence[settings["context"]:][: settings["horizon"]]
    pb, _ = model.recognize([context], steps=settings["steps"], starts=settings["starts"])
    generated = model.generate(pb[0], context, settings["horizon"])
    channel_names = ["acc x", "acc y", "acc z", "gyro x", "gyro y", "gyro z"]
    plot_generation(context, truth, generated, channel_names, out / "generated.png",
                    f"BasicMotions test sequence {shown} ({labels[shown]}): PB recognised from "
                    f"the first {len(context)} frames, then {len(truth)} frames generated")

    # 4. Streaming: one frame in, the current PB out.
    stream = model.stream(window=30, updates=5)
    for frame in test.sequences[0][: settings["stream_frames"]]:
        current = stream.push(frame)
    print(f"after {settings['stream_frames']} streamed frames of a {labels[0]} recording the PB "
          f"is {np.round(current, 3)}, nearest class "
          f"{pb_space.nearest_class_mean(table_pbs, table_labels, current[None])[0]}")

    scores = {"recognition_accuracy": accuracy,
              "diagonal_smallest": bool(pb_space.diagonal_is_smallest(table)),
              "recognition_error": [float(trace[0].mean()), float(trace[-1].mean())]}
    write_text(out / "scores.json", json.dumps(scores, indent=2))
    print(f"plots: {out / 'pb_space.png'}, {out / 'generated.png'}")
    return scores


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true",
                        help="load the pretrained entry, recognise with 40 updates")
    parser.add_argument("--out", default="tutorial_out/03",
                        help="output folder (default: tutorial_out/03)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args(argv)
    run(args.out, args.fast, args.seed)


if __name__ == "__main__":
    main()
