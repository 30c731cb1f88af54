"""Every code block of README.md runs as written, top to bottom.

Python blocks run one after another, each in a fresh interpreter, in one scratch folder (a
block may use files an earlier block wrote); shell blocks run line by line in the same
folder with this environment's `zoo` on the PATH. `make` lines run in the repository, except
`make test`, which is the command running this test. `make demo` runs a short demo (the
`ZOO_DEMO_ARGS` variable: 2 epochs of 1,501-frame recordings): the whole one is `make
demo`'s own job, and its training path is tested in tests/test_cli.py.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.output import check_clean

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks():
    text = (ROOT / "README.md").read_text()
    return [(m.group(1), m.group(2), text[:m.start()].count("\n") + 1)
            for m in BLOCK.finditer(text) if m.group(1) in ("python", "sh")]


def test_the_readme_has_the_blocks_this_test_runs():
    kinds = [kind for kind, _, _ in blocks()]
    assert kinds.count("python") >= 5 and kinds.count("sh") >= 2


@pytest.mark.slow
def test_every_readme_block_runs_as_written(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg",
           "ZOO_DEMO_ARGS": "--epochs 2 --length 1501",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for kind, code, line in blocks():
        if kind == "python":
            commands = [[sys.executable, "-c", code]]
        else:
            commands = [shlex.split(c.split("#")[0]) for c in code.splitlines()
                        if c.split("#")[0].strip()]
        for command in commands:
            if command[:2] == ["make", "test"]:
                continue  # the command that runs this very test
            cwd = ROOT if command[0] == "make" else tmp_path
            result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                                    timeout=900)
            assert result.returncode == 0, (
                f"README.md block at line {line} failed: {' '.join(command)[:200]}\n"
                f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
            check_clean(result.stdout + result.stderr, f"README.md block at line {line}")
