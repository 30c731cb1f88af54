"""The rendezvous before `jax.distributed`: every process reaches process 0 and says
whether it is ready, or a clear error names who did not come, within a timeout (JAX's own
start-up aborts the process instead). When one refuses (its checks failed), every process
stops with a line naming it; when all are ready, they open the watch (`watch.py`) that makes
them fail together for the rest of the run."""

import socket
import time

from zoo.distribute import watch


class DistributedError(RuntimeError):
    """Several devices or processes that cannot be used as asked."""


class Stopped(DistributedError):
    """A multi-process run that stops before it starts: this process, or another, refused.

    Attributes:
        exit_status: 2 when the refusal was a user error, 1 for a fault.
    """

    def __init__(self, message, exit_status=2):
        super().__init__(message)
        self.exit_status = exit_status


def address(coordinator):
    host, sep, port = str(coordinator).rpartition(":")
    if not sep or not host or not port.isdigit():
        raise DistributedError(f"coordinator must be HOST:PORT. Received: {coordinator!r}")
    return host, int(port)


def _line(connection, deadline):
    """One line from `connection` before `deadline` (monotonic), without its newline."""
    data = b""
    while b"\n" not in data:
        connection.settimeout(max(deadline - time.monotonic(), 0.01))
        chunk = connection.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data.split(b"\n", 1)[0].decode(errors="replace")


def _verdict(process_id, refusal):
    if refusal is None:
        return f"{process_id} ok\n"
    message, code = refusal
    return f"{process_id} refuse {code} {' '.join(str(message).split())}\n"


def rendezvous(coordinator, num_processes, process_id, timeout=60.0, refusal=None):
    """Waits until all `num_processes` processes have reached the coordinator address,
    each with its verdict; then starts the watch of this process.

    Process 0 listens on the coordinator's port; the others connect (retrying) and are
    released together once everyone has arrived. A peer that never arrives is reported
    here, naming the processes missing, instead of as a fatal abort inside JAX.

    Args:
        refusal: None when this process is ready; else `(message, exit status)`: its checks
            failed, and every process stops.

    Raises:
        Stopped: this process or another refused (the message names which and why).
        DistributedError: not everyone arrived within `timeout` seconds.
    """
    host, port = address(coordinator)
    deadline = time.monotonic() + float(timeout)
    if process_id == 0:
        return _lead(host, port, coordinator, num_processes, deadline, timeout, refusal)
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0) as connection:
                connection.sendall(_verdict(process_id, refusal).encode())
                answer = _line(connection, deadline)
                kind, _, rest = answer.partition(" ")
                if kind == "go":
                    link = socket.create_connection((host, int(rest)), timeout=10.0)
                    link.settimeout(None)
                    link.sendall(f"{process_id}\n".encode())
                    watch.start(process_id, num_processes, {0: link}, deadline=timeout)
                    return
                if kind == "stop":
                    who, _, rest = rest.partition(" ")
                    code, message = watch.status_and_message(rest)
                    if int(who) == process_id:
                        raise Stopped(message, code)
                    raise Stopped(f"process {who} of {num_processes} refused: {message}", code)
        except (ConnectionError, socket.timeout, OSError, ValueError):
            pass
        if time.monotonic() >= deadline:
            if refusal is not None:
                raise Stopped(*refusal)
            raise DistributedError(
                f"process {process_id} of {num_processes}: the coordinator {coordinator} "
                f"did not gather every process within {timeout:g} s.")
        time.sleep(0.2)


def _lead(host, port, coordinator, num_processes, deadline, timeout, refusal):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        server.bind((host, port))
    except OSError as error:
        raise DistributedError(f"cannot listen on {coordinator}: {error.strerror}.") from None
    server.listen(num_processes)
    peers, refusals = {}, {} if refusal is None else {0: refusal}
    try:
        while len(peers) < num_processes - 1:
            server.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                connection, _ = server.accept()
            except socket.timeout:
                missing = sorted(set(range(1, num_processes)) - set(peers))
                message = (f"process(es) {missing} of {num_processes} did not reach the "
                           f"coordinator {coordinator} within {timeout:g} s.")
                for peer in peers.values():
                    peer.sendall(f"stop 0 2 {message}\n".encode())
                if refusal is not None:
                    raise Stopped(*refusal) from None
                raise DistributedError(message) from None
            try:
                peer, kind, rest = (_line(connection, time.monotonic() + 5.0) + "  ").split(" ", 2)
                peer = int(peer)
                refused = watch.status_and_message(rest.strip()) if kind == "refuse" else None
            except (OSError, ValueError):  # not a process of this run: ignored
                connection.close()
                continue
            if not 0 < peer < num_processes or peer in peers:
                connection.close()
                continue
            peers[peer] = connection
            if refused is not None:
                code, message = refused
                refusals[peer] = (message, code)
        if refusals:
            first = min(refusals)
            message, code = refusals[first]
            for connection in peers.values():
                connection.sendall(f"stop {first} {code} {message}\n".encode())
            if first == 0:
                raise Stopped(message, code)
            raise Stopped(f"process {first} of {num_processes} refused: {message}", code)
        links = watch.listen(host)
        try:
            for connection in peers.values():
                connection.sendall(f"go {links.getsockname()[1]}\n".encode())
            connections = {}
            while len(connections) < num_processes - 1:
                links.settimeout(max(deadline - time.monotonic(), 5.0))
                link, _ = links.accept()
                try:
                    peer = int(_line(link, time.monotonic() + 10.0))
                except (OSError, ValueError):  # not a process of this run: ignored
                    link.close()
                    continue
                if peer not in peers or peer in connections:
                    link.close()
                    continue
                connections[peer] = link
                link.settimeout(None)
        finally:
            links.close()
        watch.start(0, num_processes, connections, deadline=timeout)
    finally:
        for connection in peers.values():
            connection.close()
        server.close()
