"""The rendezvous before `jax.distributed`: every process reaches process 0, or a clear
error names who did not, within a timeout (JAX's own start-up aborts the process instead)."""

import socket
import time


class DistributedError(RuntimeError):
    """Several devices or processes that cannot be used as asked."""


def address(coordinator):
    host, sep, port = str(coordinator).rpartition(":")
    if not sep or not host or not port.isdigit():
        raise DistributedError(f"coordinator must be HOST:PORT. Received: {coordinator!r}")
    return host, int(port)


def rendezvous(coordinator, num_processes, process_id, timeout=60.0):
    """Waits until all `num_processes` processes have reached the coordinator address.

    Process 0 listens on the coordinator's port; the others connect (retrying) and are
    released together once everyone has arrived. A peer that never arrives is reported
    here, naming the processes missing, instead of as a fatal abort inside JAX.

    Raises:
        DistributedError: not everyone arrived within `timeout` seconds.
    """
    host, port = address(coordinator)
    deadline = time.monotonic() + float(timeout)
    if process_id == 0:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            server.bind((host, port))
        except OSError as error:
            raise DistributedError(f"cannot listen on {coordinator}: {error.strerror}.") from None
        server.listen(num_processes)
        peers = {}
        try:
            while len(peers) < num_processes - 1:
                server.settimeout(max(deadline - time.monotonic(), 0.01))
                try:
                    connection, _ = server.accept()
                except socket.timeout:
                    missing = sorted(set(range(1, num_processes)) - set(peers))
                    raise DistributedError(
                        f"process(es) {missing} of {num_processes} did not reach the "
                        f"coordinator {coordinator} within {timeout:g} s.") from None
                connection.settimeout(5.0)
                try:
                    peer = int(connection.recv(16).decode() or -1)
                except (OSError, ValueError):
                    connection.close()
                    continue
                if not 0 < peer < num_processes or peer in peers:
                    connection.close()
                    continue
                peers[peer] = connection
            for connection in peers.values():
                connection.sendall(b"go")
        finally:
            for connection in peers.values():
                connection.close()
            server.close()
        return
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0) as connection:
                connection.sendall(str(process_id).encode())
                connection.settimeout(max(deadline - time.monotonic(), 0.01))
                if connection.recv(2) == b"go":
                    return
        except (ConnectionError, socket.timeout, OSError):
            pass
        if time.monotonic() >= deadline:
            raise DistributedError(
                f"process {process_id} of {num_processes}: the coordinator {coordinator} "
                f"did not gather every process within {timeout:g} s.")
        time.sleep(0.2)
