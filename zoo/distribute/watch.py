"""Processes that fail together: a side channel from process 0 to every other process,
open for the whole run, over which each says how it ends.

JAX's collectives wait for a dead peer until a heartbeat deadline, then abort the process
(SIGABRT and a C++ stack trace, minutes later). This channel is plain TCP: when a process
fails it says why and exits; when one is killed its socket closes, which the kernel reports
at once. Either way, every other process prints one line naming the process and the reason,
and exits with the failing process's status (2 for a user error, 1 for a fault). A run ends
well only when every process said "done" and process 0 answered "end".

Lines on the channel (UTF-8, one message a line):
    peer -> 0:  "fail CODE MESSAGE", "done"
    0 -> peer:  "stop PROCESS CODE MESSAGE", "end"
"""

import os
import select
import socket
import sys
import threading

_ACTIVE = None
#: The exit statuses a line may ask for; anything else reads as a fault (1).
STATUSES = (1, 2, 130)
#: Seconds a failing process waits to hear whether a peer ended first (`Watch.fail`).
ECHO_GRACE = 1.0


def status_and_message(text):
    """`(exit status, message)` of the "CODE MESSAGE" part of a line (ValueError if the
    code is not a number)."""
    code, _, message = text.partition(" ")
    code = int(code)
    return (code if code in STATUSES else 1), message


class Watch:
    """The channel of this process: `connections` maps process id -> socket (process 0:
    one per peer; a peer: `{0: socket}`)."""

    def __init__(self, process_id, num_processes, connections, deadline=60.0):
        self.process_id, self.num_processes = process_id, num_processes
        self.connections = connections
        self.deadline = deadline
        self.done = set()
        self.ended = threading.Event()
        self.cleanups = []
        self.closing = False
        self._peer_ended = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="zoo-watch", daemon=True)
        self._thread.start()

    # -- what this process says ----------------------------------------------------------
    def _send(self, process, text):
        try:
            self.connections[process].sendall((text.replace("\n", " ") + "\n").encode())
        except OSError:
            pass  # that process is gone; its own end is reported by the others

    def _broadcast(self, text, skip=()):
        for process in list(self.connections):
            if process not in skip:
                self._send(process, text)

    def fail(self, message, code):
        """This process failed: tell the others (through process 0), then exit `code`.

        A failure here can be the echo of a peer's end: a collective over a killed peer's
        connection fails at once ("Gloo AllGather failed: ... Connection reset by peer"),
        as fast as the kernel reports the closed channel. So the watch first has
        `ECHO_GRACE` seconds to hear of a peer that ended; if one did, that peer is the one
        reported (and its status), as on every other process.
        """
        if self._peer_ended.wait(ECHO_GRACE):
            self._thread.join(ECHO_GRACE)  # it reports the peer and exits this process
        with self._lock:
            self.closing = True
            if self.process_id == 0:
                self._broadcast(f"stop 0 {code} {message}")
            else:
                self._send(0, f"fail {code} {message}")
        self._exit(code)

    def finish(self):
        """This process ended well: wait until every process has, within the deadline."""
        if self.process_id == 0:
            with self._lock:
                self.done.add(0)
                self._end_if_all_done()
        else:
            self._send(0, "done")
        if not self.ended.wait(self.deadline):
            self._report(f"the other processes did not finish within {self.deadline:g} s of "
                         "this one")
            self._exit(1)
        self.close()

    def close(self):
        global _ACTIVE
        self.closing = True
        for connection in self.connections.values():
            connection.close()
        _ACTIVE = None

    # -- what the others say --------------------------------------------------------------
    def _end_if_all_done(self):
        if len(self.done) == self.num_processes:
            self._broadcast("end")
            self.ended.set()

    def _watch(self):
        buffers = {process: b"" for process in self.connections}
        while not self.closing:
            live = {c: p for p, c in self.connections.items() if p in buffers}
            if not live:
                return
            try:
                ready, _, _ = select.select(list(live), [], [], 0.5)
            except (OSError, ValueError):  # closed under us: the run is ending
                return
            for connection in ready:
                process = live[connection]
                try:
                    data = connection.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    del buffers[process]
                    self._gone(process)
                    continue
                buffers[process] += data
                while b"\n" in buffers[process]:
                    line, buffers[process] = buffers[process].split(b"\n", 1)
                    self._said(process, line.decode(errors="replace"))

    def _gone(self, process):
        if self.closing or self.ended.is_set() or process in self.done:
            return
        reason = "stopped without a word (killed, or it crashed)"
        if self.process_id == 0:
            self._broadcast(f"stop {process} 1 {reason}", skip=(process,))
        self._stop(process, 1, reason)

    def _said(self, process, line):
        try:
            self._heard(process, line)
        except ValueError:  # a garbled line: not one of ours, nothing to act on
            pass

    def _heard(self, process, line):
        kind, _, rest = line.partition(" ")
        if kind == "done" and self.process_id == 0:
            with self._lock:
                self.done.add(process)
                self._end_if_all_done()
        elif kind == "end":
            self.ended.set()
        elif kind == "fail" and self.process_id == 0:
            code, message = status_and_message(rest)
            self._broadcast(f"stop {process} {code} {message}", skip=(process,))
            self._stop(process, code, message)
        elif kind == "stop":
            who, _, rest = rest.partition(" ")
            code, message = status_and_message(rest)
            self._stop(int(who), code, message)

    def _stop(self, process, code, reason):
        self._peer_ended.set()
        with self._lock:
            if self.closing:
                return
            self.closing = True
        self._report(f"process {process} of {self.num_processes} failed: {reason}; every "
                     "process stops")
        self._exit(code)

    def _report(self, text):
        print(f"zoo: {text}", file=sys.stderr, flush=True)

    def _exit(self, code):
        for cleanup in self.cleanups:
            try:
                cleanup()
            except Exception:  # nothing may keep this process from ending
                pass
        sys.stdout.flush()
        sys.stderr.flush()
        # Not sys.exit: JAX's shutdown barrier would wait minutes for the others.
        os._exit(code)


def start(process_id, num_processes, connections, deadline=60.0):
    """Starts this process's watch (one a process)."""
    global _ACTIVE
    _ACTIVE = Watch(process_id, num_processes, connections, deadline)
    return _ACTIVE


def active():
    """The running watch, or None outside a multi-process run."""
    return _ACTIVE


def on_stop(cleanup):
    """Runs `cleanup()` before this process exits because of a failure (its own or
    another's); nothing outside a multi-process run."""
    if _ACTIVE is not None:
        _ACTIVE.cleanups.append(cleanup)


def fail(message, code):
    """Tells every process of the run that this one failed, and exits `code`; returns
    at once outside a multi-process run."""
    if _ACTIVE is not None:
        _ACTIVE.fail(" ".join(str(message).split()), code)


def finish():
    """The end of a run that went well: returns once every process got there."""
    if _ACTIVE is not None:
        _ACTIVE.finish()


def listen(host):
    """A listening socket on an ephemeral port of `host` for the watch connections."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind((host, 0))
    server.listen(64)
    return server
