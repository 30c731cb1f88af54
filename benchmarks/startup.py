"""Start-up time of the command line and of `import zoo`, against `import tensorflow`.

Each command runs in a new process; the figure is its wall time, median of `--repeats`
runs. Warm: the files are in the page cache (one untimed run first). Cold: the page cache is
dropped before each run (`/proc/sys/vm/drop_caches`, which needs root; without it the cold
column says so). `python -c "import tensorflow"` is the floor a command that needs
TensorFlow cannot go under; `zoo --help`, `zoo list`, `zoo info NAME` and `import zoo`
need none.

    .venv/bin/python benchmarks/startup.py [--repeats 5] [--out benchmarks/results/startup.txt]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
COMMANDS = {
    "zoo --help": [str(BIN / "zoo"), "--help"],
    "zoo list": [str(BIN / "zoo"), "list"],
    "zoo info emotion_downup": [str(BIN / "zoo"), "info", "emotion_downup"],
    'python -c "import zoo"': [sys.executable, "-c", "import zoo"],
    'python -c "import zoo; zoo.list_models()"': [sys.executable, "-c",
                                                  "import zoo; zoo.list_models()"],
    'python -c "import tensorflow"': [sys.executable, "-c", "import tensorflow"],
}
DROP = Path("/proc/sys/vm/drop_caches")


def drop_page_cache():
    """Whether the page cache could be dropped (root only)."""
    try:
        os.sync()
        DROP.write_text("3\n")
        return True
    except OSError:
        return False


def wall(argv):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                   env=env, timeout=300)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=None, help="also write the table here")
    args = parser.parse_args()
    cold_ok = drop_page_cache()
    rows = []
    for label, argv in COMMANDS.items():
        cold = []
        if cold_ok:
            for _ in range(args.repeats):
                drop_page_cache()
                cold.append(wall(argv))
        wall(argv)  # warm the cache
        warm = [wall(argv) for _ in range(args.repeats)]
        rows.append((label, statistics.median(cold) if cold else None, statistics.median(warm),
                     min(warm), max(warm)))
    floor = next(r[2] for r in rows if "tensorflow" in r[0])
    lines = [f"start-up wall time, median of {args.repeats} runs each, {os.cpu_count()} cores"
             f"{'' if cold_ok else ' (cold not measured: dropping the page cache needs root)'}",
             f"{'command':44s} {'cold s':>7s} {'warm s':>7s} {'warm range':>13s} "
             f"{'warm / import tensorflow':>25s}"]
    for label, cold, warm, low, high in rows:
        cold_text = f"{cold:7.2f}" if cold is not None else f"{'-':>7s}"
        lines.append(f"{label:44s} {cold_text} {warm:7.2f} {low:6.2f}-{high:<6.2f} "
                     f"{warm / floor:25.2f}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
