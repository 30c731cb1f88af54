"""Test accuracy of the recurrent classifiers on the bundled UEA sets, over several seeds.

Uses the recipes in `zoo.recipes.uea.SETTINGS` (the slow test runs seed 0 only).

    .venv/bin/python benchmarks/uea_accuracy.py [--seeds 3] [--datasets JapaneseVowels BasicMotions]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from zoo.recipes.uea import SETTINGS, train_classifier  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=list(SETTINGS))
    parser.add_argument("--models", nargs="+", default=["peephole_lstm_classifier", "gru_classifier"])
    args = parser.parse_args(argv)
    for dataset in args.datasets:
        for name in args.models:
            scores = []
            for seed in range(args.seeds):
                start = time.perf_counter()
                _, accuracy, _ = train_classifier(name, dataset, seed=seed)
                scores.append(accuracy)
                print(f"{dataset:15s} {name:26s} seed {seed}: test accuracy {accuracy:.4f} "
                      f"({time.perf_counter() - start:.0f} s)", flush=True)
            print(f"{dataset:15s} {name:26s} median {statistics.median(scores):.4f}, "
                  f"min {min(scores):.4f}, max {max(scores):.4f}\n", flush=True)


if __name__ == "__main__":
    main()
