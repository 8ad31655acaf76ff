"""The checks' end of one worker process: its channel, one request at a time, each reply awaited with a time limit."""
import os
import queue
import signal
import subprocess
import threading
from pathlib import Path

from tbcourse.runner.framing import READY, read_frame, send_request

STARTUP_SECONDS = 300  # importing torch and the lessons' libraries on a loaded machine
OUTPUT_BYTES = 2**16  # of what a call of sandboxed student code prints, the checks pass on this much, no more
DROPPED = b"\n[the rest of what this call printed is dropped]\n"


class WorkerError(RuntimeError):
    """The worker could not be started: the course's or the machine's fault, not the student's."""


def pump(read, into: queue.Queue) -> None:
    """Put what each ``read()`` returns into ``into``, in a thread of its own, so that a reply can be awaited with
    a time limit; None when there is no more (the other end closed, or the read failed)."""
    while True:
        try:
            item = read()
        except (OSError, ValueError):  # a descriptor, or a file, closed under the read
            item = None
        into.put(item)
        if item is None:
            return


class Worker:
    """A warm worker process and its channel: one request at a time, each reply awaited with a time limit.
    ``process`` is a subprocess.Popen or alike (poll, wait, kill, pid: ``methods.fork``), the leader of its
    process group."""

    def __init__(self, process, requests: int, replies: int, describe: str, owned=()):
        self.process, self.requests = process, requests
        self.describe, self.owned, self.ready = describe, owned, False
        self.printed = 0  # bytes the current call printed, where its output is bounded (``relay``)
        self.replies = queue.Queue()
        threading.Thread(target=pump, args=(lambda: read_frame(replies), self.replies), daemon=True).start()

    @classmethod
    def started(cls, command: list[str], env: dict, cwd: Path | None = None, bounded: bool = False) -> "Worker":
        """The worker program run as ``command``, its channel on its standard input and output. ``bounded``: what
        it prints (its standard error) reaches the checks' own through ``relay``, at most OUTPUT_BYTES a call."""
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=cwd,
                                   stderr=subprocess.PIPE if bounded else None,
                                   start_new_session=hasattr(os, "setsid"))
        worker = cls(process, process.stdin.fileno(), process.stdout.fileno(), " ".join(command),
                     (process.stdin, process.stdout, *([process.stderr] if bounded else [])))
        if bounded:
            threading.Thread(target=worker.relay, args=(process.stderr.fileno(),), daemon=True).start()
        return worker

    def relay(self, fd: int) -> None:
        """Pass on to the checks' standard error (the test's captured output) the first OUTPUT_BYTES of what each
        call prints, and drop the rest: a flood of prints never fills the checks' log or memory."""
        while True:
            try:
                chunk = os.read(fd, 2**16)
            except OSError:
                return
            if not chunk:
                return
            room = OUTPUT_BYTES - self.printed
            self.printed += len(chunk)
            if room >= 0:  # the first chunk past the bound says so, once
                try:
                    os.write(2, chunk[:room] + (DROPPED if len(chunk) > room else b""))
                except OSError:  # the checks' standard error is closed: go on draining the pipe
                    pass

    def wait_ready(self) -> None:
        """Wait for the worker's imports (it says READY), at most STARTUP_SECONDS; WorkerError if it did not start."""
        if self.ready:
            return
        try:
            ready = self.replies.get(timeout=STARTUP_SECONDS)
        except queue.Empty:
            ready = None
        if ready != READY:
            self.close()
            raise WorkerError(f"the worker that runs student code did not start ({self.describe[:300]})")
        self.ready = True

    def call(self, request: tuple, seconds: float) -> bytes | None:
        """The reply to an ``encode_request``; None when the worker died; TimeoutError when it took too long."""
        self.wait_ready()
        self.printed = 0
        try:
            send_request(self.requests, *request)
        except OSError:
            return None
        try:
            return self.replies.get(timeout=seconds)
        except queue.Empty:
            raise TimeoutError from None

    def close(self):
        """Kill the worker and what its calls left running in its process group: inside bubblewrap the PID
        namespace would die with it anyway, but elsewhere nothing else would end them."""
        if hasattr(os, "killpg"):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):  # not yet a group of its own (a forked worker's first
                pass  # moment): the kill below ends it
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in self.owned:
            stream.close()
