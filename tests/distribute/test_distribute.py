"""Several devices and processes: the same losses, metrics and weights as one device on the
same global batch (TensorFlow's MirroredStrategy over 2 logical CPUs, JAX's DataParallel
over 2 host devices, 2 JAX processes over localhost), and clear errors for bad settings.

Every run is its own process (devices are fixed when a backend starts), under a hard
timeout; all of them start from the TensorFlow suite.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo import backend, distribute


ROOT = Path(__file__).resolve().parents[2]
tensorflow_run = pytest.mark.skipif(backend.name() != "tensorflow",
                                    reason="starts its own processes from the TensorFlow run")
TIMEOUT = 300


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(args, backend_name="tensorflow", devices=1):
    env = {**os.environ, "KERAS_BACKEND": backend_name, "TF_CPP_MIN_LOG_LEVEL": "3",
           "CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu", "OMP_NUM_THREADS": "1"}
    env.pop("XLA_FLAGS", None)
    if backend_name == "jax" and devices > 1:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    return subprocess.Popen([sys.executable, "-m", "tests.distribute.worker", *map(str, args)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def _ended(processes, within):
    """`{name: (exit status, output)}` once every process ended; fails after `within` s."""
    ended = {}
    for name, process in processes.items():
        try:
            output, _ = process.communicate(timeout=within)
        except subprocess.TimeoutExpired:
            for other in processes.values():
                other.kill()
            pytest.fail(f"{name} was still running {within} s after the others were started")
        ended[name] = (process.returncode, output)
    return ended


def _finish(processes, timeout=TIMEOUT):
    outputs = {}
    for name, (status, output) in _ended(processes, timeout).items():
        assert status == 0, f"{name} failed:\n{output[-4000:]}"
        outputs[name] = output
    return outputs


def _compare(path, expect_uneven, expect_outside_replicas):
    results = np.load(path)
    assert int(results["used"]) == 2
    keys = [k[4:] for k in results.files if k.startswith("one:")]
    models = {k.split("/")[0] for k in keys}
    assert models == {"emotion_downup", "emotion_dilated", "gru_regressor", "gru_classifier",
                      "peephole_lstm_classifier", "rnnpb", "rnnpb_outside",
                      "rnnpb_outside_replicas", "rnnpb_uneven"}
    # An uneven last batch: finite weights on TensorFlow, a clear error on JAX (worker.py).
    assert results["several:rnnpb_uneven/score/outcome"] == expect_uneven
    # The RNNPB fit outside the scope still trained on both devices (TensorFlow).
    replicas = results["several:rnnpb_outside_replicas/score/replicas"]
    assert replicas == expect_outside_replicas, replicas
    worst = {}
    for key in (k for k in keys if not k.startswith(("rnnpb_uneven/", "rnnpb_outside_r"))):
        one, several = results[f"one:{key}"], results[f"several:{key}"]
        assert one.shape == several.shape, key
        worst[key] = float(np.max(np.abs(one - several))) if one.size else 0.0
    scores = {k: v for k, v in worst.items() if "/weight/" not in k}
    weights = {k: v for k, v in worst.items() if "/weight/" in k}
    assert max(scores.values()) <= 1e-5, sorted(scores.items(), key=lambda kv: -kv[1])[:5]
    assert max(weights.values()) <= 2e-5, sorted(weights.items(), key=lambda kv: -kv[1])[:5]
    # The runs learnt something, so agreement is not that of two untouched models.
    assert results["one:gru_regressor/history/loss"][-1] < results["one:gru_regressor/history/loss"][0]


@tensorflow_run
def test_two_devices_match_one_device_on_tensorflow_and_jax(tmp_path):
    """Emotion regressors with CCCLoss/CCC/RMSE, recurrent classifiers and the RNNPB
    (learning, then recognition; fit inside the scope, and made in it but fit outside):
    fit, evaluate and weights on 2 devices against 1."""
    _finish({"tensorflow": _start(["devices", tmp_path / "tf.npz", 2]),
             "jax": _start(["devices", tmp_path / "jax.npz", 2], "jax", devices=2)})
    _compare(tmp_path / "tf.npz", expect_uneven=1.0, expect_outside_replicas=2.0)
    _compare(tmp_path / "jax.npz", expect_uneven=2.0, expect_outside_replicas=0.0)


def _corpus(dev=0):
    x, y = [], []
    rng = np.random.default_rng(0)
    for _ in range(8 + dev):
        features = rng.normal(size=(48, 6)).astype("float32")
        x.append(features)
        y.append(np.tanh(np.cumsum(features[:, :2], axis=0) / 6).astype("float32"))
    names = [f"train_{i}" for i in range(8)] + [f"dev_{i}" for i in range(dev)]
    return zoo.data.Corpus(names, x, y)


@tensorflow_run
def test_two_jax_processes_match_one(tmp_path):
    """Two processes over localhost, each feeding half of every global batch from the same
    shards, end with identical weights, equal to one process on the same global batch."""
    zoo.data.pack(_corpus(), tmp_path / "shards", shard_bytes=4096)
    port = _free_port()
    runs = {f"process {i}": _start(["process", tmp_path / f"p{i}.npz", tmp_path / "shards",
                                    i, 2, port], "jax") for i in range(2)}
    runs["single"] = _start(["process", tmp_path / "single.npz", tmp_path / "shards", 0, 1, 0],
                            "jax")
    _finish(runs)
    p0, p1, single = (np.load(tmp_path / f"{n}.npz") for n in ("p0", "p1", "single"))
    weights = [k for k in single.files if k.startswith("weight/")]
    for key in weights:
        np.testing.assert_array_equal(p0[key], p1[key], err_msg=key)
        np.testing.assert_allclose(p0[key], single[key], atol=2e-5, err_msg=key)
    np.testing.assert_allclose(p0["loss"], single["loss"], atol=1e-5)
    assert single["loss"][-1] < single["loss"][0]


def _cli(args, port, process_id):
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3",
           "JAX_PLATFORMS": "cpu", "OMP_NUM_THREADS": "1", "ZOO_COORDINATOR": f"127.0.0.1:{port}",
           "ZOO_NUM_PROCESSES": "2", "ZOO_PROCESS_ID": str(process_id)}
    env.pop("XLA_FLAGS", None)
    return subprocess.Popen([sys.executable, "-m", "zoo.cli", *map(str, args)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _fingerprint(output):
    lines = [line for line in output.splitlines() if "weights fingerprint" in line]
    assert len(lines) == 1, output[-3000:]
    return lines[0].split()[-1]


def _last_line(output):
    """The last line a process wrote that is not a native (absl/gloo) log line."""
    ours = [line for line in output.splitlines() if line.startswith("zoo: ")]
    assert ours, output[-3000:]
    return ours[-1]


SHARD_RUN = ["train", "gru_regressor", "--distributed", "--epochs", "6", "--batch-size", "4",
             "--set", "units=4", "--quiet"]


@tensorflow_run
def test_zoo_train_distributed_runs_fail_together_and_resume_after_a_kill(tmp_path):
    """`zoo train --distributed`: settings from the environment, both processes finish with
    the same weights, process 0 alone writes OUT. A worker killed mid-run (SIGKILL) stops
    the other within 60 s, naming it; `--resume` on both then ends with the weights of the
    uninterrupted run."""
    import signal
    import time

    zoo.data.pack(_corpus(dev=4), tmp_path / "shards", shard_bytes=4096)
    args = [*SHARD_RUN, "--data", f"shards:{tmp_path / 'shards'}"]
    port = _free_port()
    outputs = _finish({f"process {i}": _cli([*args, "--out", tmp_path / f"run{i}"], port, i)
                       for i in range(2)})
    whole = _fingerprint(outputs["process 0"])
    assert _fingerprint(outputs["process 1"]) == whole
    assert "2 process(es)" in outputs["process 0"]
    assert (tmp_path / "run0" / "model.keras").is_file() and not (tmp_path / "run1").exists()
    # Process 0 scores the model it wrote per dimension over every pooled dev frame.
    scores = json.loads((tmp_path / "run0" / "metrics.json").read_text())["dimension_scores"]
    assert set(scores["ccc"]) == {"arousal", "valence"}
    assert "dev scores (4 recordings, all frames pooled):" in outputs["process 0"]
    assert (tmp_path / "run0" / "predictions.png").is_file()

    out = [*args, "--out", tmp_path / "killed"]
    port = _free_port()
    runs = {f"process {i}": _cli(out, port, i) for i in range(2)}
    state = tmp_path / ".killed.partial" / "checkpoint" / "state.json"
    deadline = time.monotonic() + 240
    while not (state.is_file() and json.loads(state.read_text() or "{}").get("epochs_done")):
        assert time.monotonic() < deadline and runs["process 0"].poll() is None, "no epoch ended"
        time.sleep(0.05)
    runs["process 1"].send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    ended = _ended({"process 0": runs["process 0"]}, within=60)
    assert time.monotonic() - killed_at < 60
    status, output = ended["process 0"]
    assert status == 1, output[-3000:]
    assert _last_line(output) == ("zoo: process 1 of 2 failed: stopped without a word "
                                  "(killed, or it crashed); every process stops")
    assert json.loads(state.read_text())["epochs_done"] < 6  # it stopped mid-run
    port = _free_port()
    resumed = _finish({f"process {i}": _cli([*out, "--resume"], port, i) for i in range(2)})
    assert _fingerprint(resumed["process 0"]) == _fingerprint(resumed["process 1"]) == whole
    assert (tmp_path / "killed" / "model.keras").is_file()
    assert not (tmp_path / ".killed.partial").exists()


@tensorflow_run
@pytest.mark.parametrize("refusing", [0, 1])
def test_a_refusal_on_either_process_stops_both_with_one_line(tmp_path, refusing):
    """Process 0 refuses a non-empty --out that is not a run of zoo's; process 1 refuses a
    pack it cannot find. Both end within 30 s, exit status 2, and nothing is staged."""
    import time

    zoo.data.pack(_corpus(), tmp_path / "shards", shard_bytes=4096)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("the user's own\n")
    data = {0: tmp_path / "shards", 1: tmp_path / "shards"}
    out = tmp_path / ("mine" if refusing == 0 else "run")
    if refusing == 1:
        data[1] = tmp_path / "nothere"
    port = _free_port()
    started = time.monotonic()
    ended = _ended({i: _cli([*SHARD_RUN, "--data", f"shards:{data[i]}", "--out", out], port, i)
                    for i in range(2)}, within=120)
    assert time.monotonic() - started < 30 + 15  # 15 s: two interpreters importing JAX
    reason = ("exists and is not empty" if refusing == 0 else "no such shard folder")
    for process, (status, output) in ended.items():
        line = _last_line(output)
        assert status == 2, output[-3000:]
        assert reason in line, line
        if process != refusing:
            assert line.startswith(f"zoo: process {refusing} of 2 refused: "), line
    assert (tmp_path / "mine" / "notes.txt").read_text() == "the user's own\n"
    assert not list(tmp_path.glob(".*.partial"))


@tensorflow_run
def test_a_peer_that_never_comes_is_a_clear_error_within_the_timeout(tmp_path):
    import time

    start = time.monotonic()
    _finish({"late": _start(["late", tmp_path / "late.json", _free_port()], "jax")}, timeout=120)
    error = json.loads((tmp_path / "late.json").read_text())["error"]
    assert "process(es) [1] of 2 did not reach the coordinator" in error
    assert time.monotonic() - start < 60


def test_bad_distribution_settings_are_named(monkeypatch):
    with pytest.raises(distribute.DistributedError, match="devices must be 'all' or a positive"):
        with distribute.devices(0):
            pass
    with pytest.raises(distribute.DistributedError, match="devices asked for; this process sees"):
        with distribute.devices(64):
            pass
    if backend.name() == "tensorflow":
        with pytest.raises(backend.BackendError, match="KERAS_BACKEND=jax"):
            distribute.initialize("127.0.0.1:1234", 2, 0)
    assert distribute.worker() is None
    with pytest.raises(distribute.DistributedError, match="split_cpu needs a positive int"):
        distribute.split_cpu(0)


def test_initialize_reads_and_checks_its_settings(monkeypatch):
    monkeypatch.setattr(backend, "name", lambda: "jax")
    for name in ("ZOO_COORDINATOR", "JAX_COORDINATOR_ADDRESS", "ZOO_NUM_PROCESSES",
                 "JAX_NUM_PROCESSES", "ZOO_PROCESS_ID", "JAX_PROCESS_ID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(distribute.DistributedError, match="no coordinator: pass it, or set"):
        distribute.initialize()
    monkeypatch.setenv("ZOO_COORDINATOR", "localhost")
    monkeypatch.setenv("ZOO_NUM_PROCESSES", "2")
    monkeypatch.setenv("JAX_PROCESS_ID", "0")
    with pytest.raises(distribute.DistributedError, match="coordinator must be HOST:PORT"):
        distribute.initialize()
    monkeypatch.setenv("ZOO_COORDINATOR", "127.0.0.1:5000")
    monkeypatch.setenv("JAX_PROCESS_ID", "two")
    with pytest.raises(distribute.DistributedError, match="JAX_PROCESS_ID='two' is not a valid"):
        distribute.initialize()
    with pytest.raises(distribute.DistributedError, match="process id 3 is not in 0..1"):
        distribute.initialize(process_id=3)
    with pytest.raises(distribute.DistributedError, match="timeout must be a positive"):
        distribute.initialize(process_id=0, timeout=-1)
    with pytest.raises(distribute.DistributedError, match="num_processes must be at least 1"):
        distribute.initialize(num_processes=0, process_id=0)
    distribute.initialize(num_processes=1, process_id=0)  # one process: nothing to join


@pytest.mark.parametrize("peer", ["killed", "alive"])
def test_a_failure_that_echoes_a_killed_peer_names_the_peer(peer):
    """A collective over a killed peer's connection fails as fast as the watch hears the
    peer's socket close (a CI run saw "Gloo AllGather failed: ... Connection reset by
    peer", status 2, instead of the peer's line). `Watch.fail` gives the watch
    `ECHO_GRACE` to hear of it: the killed peer is reported, status 1. With the peer alive,
    the process's own failure stands (status 2), told to the peer."""
    code = ("import socket, sys; from zoo.distribute import watch; "
            "mine, theirs = socket.socketpair(); w = watch.start(0, 2, {1: mine}); "
            "theirs.close() if sys.argv[1] == 'killed' else None; "
            "w.fail('Gloo AllGather failed: Connection reset by peer', 2)")
    result = subprocess.run([sys.executable, "-c", code, peer], capture_output=True,
                            text=True, timeout=60)
    if peer == "killed":
        assert result.returncode == 1, result.stderr
        assert result.stderr.strip().splitlines()[-1] == (
            "zoo: process 1 of 2 failed: stopped without a word (killed, or it crashed); "
            "every process stops")
    else:
        assert result.returncode == 2 and "process 1" not in result.stderr, result.stderr


def test_a_stranger_at_the_rendezvous_is_ignored_and_a_garbled_status_is_a_fault(tmp_path):
    """Lines that are not a process's are dropped, at the coordinator's port and on the
    watch; a status outside 1, 2, 130 reads as a fault (1)."""
    import threading
    import time

    from zoo.distribute import watch

    port = _free_port()
    errors = []

    def lead():
        try:
            distribute.rendezvous(f"127.0.0.1:{port}", 2, 0, timeout=2.0)
        except distribute.DistributedError as error:
            errors.append(str(error))

    thread = threading.Thread(target=lead)
    thread.start()
    time.sleep(0.3)
    for garbage in (b"not a process\n", b"1 refuse x y\n", b"7 ok\n"):
        with socket.create_connection(("127.0.0.1", port), timeout=2) as stranger:
            stranger.sendall(garbage)
            time.sleep(0.1)
    thread.join(10)
    assert errors == [f"process(es) [1] of 2 did not reach the coordinator 127.0.0.1:{port} "
                      "within 2 s."]
    assert watch.status_and_message("2 bad --out") == (2, "bad --out")
    assert watch.status_and_message("99 odd") == (1, "odd")
    with pytest.raises(ValueError):
        watch.status_and_message("x y")
