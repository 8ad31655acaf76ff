"""The checks' end of the channel to the worker that runs student code (``tbcourse.grading.worker``).

Framing (a length, then the bytes), the requests' out-of-band buffers, and the ``Worker`` process: started
as the ``start_method`` setting says, answered one request at a time, each reply awaited with a time limit.
Nothing here imports torch, so the grading plugin can start the forkserver or a boundary's worker
(``warm_up``) before the checks import their libraries: the worker's imports and the checks' own run side
by side.
"""
import ast
import atexit
import io
import json
import multiprocessing
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
from pathlib import Path

from tbcourse.grading import boundary, unprivileged
from tbcourse.settings import BOUNDARIES, ENV, LESSONS, SAFE_PATH, SOLUTIONS, Settings, lesson_names

FRAME = struct.Struct("<Q")
READY = b"ready"
STARTUP_SECONDS = 300  # importing torch and the lessons' libraries on a loaded machine


class FrameTooLarge(ValueError):
    """A frame that says it is longer than its reader takes."""


class WorkerError(RuntimeError):
    """The worker could not be started: the course's or the machine's fault, not the student's."""


def send_request(fd: int, head: dict, data: bytes, buffers: list[pickle.PickleBuffer]) -> None:
    """A frame of the buffers' lengths, the request's ``head`` (JSON: what a keeper reads without unpickling
    anything, ``request_head``) and the pickle; then each buffer's bytes as they lie in memory."""
    sizes = [buffer.raw().nbytes for buffer in buffers]
    address = json.dumps(head).encode()
    write_frame(fd, FRAME.pack(len(sizes)) + b"".join(FRAME.pack(n) for n in sizes) + FRAME.pack(len(address))
                + address + data)
    for buffer in buffers:
        _write_all(fd, buffer.raw())


class _Unpickler(pickle.Unpickler):
    def __init__(self, data, buffers, held):
        super().__init__(io.BytesIO(data), buffers=buffers)
        self.held = held

    def persistent_load(self, path):
        return self.held(path)


def read_request(fd: int):
    """What ``send_request`` sent, as it came: (the frame, its buffers); None when the other end closed."""
    frame = read_frame(fd)
    if frame is None:
        return None
    count = FRAME.unpack_from(frame)[0]
    sizes = [FRAME.unpack_from(frame, FRAME.size * (k + 1))[0] for k in range(count)]
    buffers = []
    with io.FileIO(fd, closefd=False) as stream:
        for size in sizes:
            buffer = bytearray(size)
            view, done = memoryview(buffer), 0
            while done < size:
                got = stream.readinto(view[done:])
                if not got:
                    return None
                done += got
            buffers.append(buffer)
    return frame, buffers


def forward_request(fd: int, raw) -> None:
    """Send on what ``read_request`` read, unchanged."""
    frame, buffers = raw
    write_frame(fd, frame)
    for buffer in buffers:
        _write_all(fd, buffer)


def _head(frame) -> tuple[int, int]:
    """Where a request's head starts in its frame, and its length."""
    start = FRAME.size * (FRAME.unpack_from(frame)[0] + 1)
    return start + FRAME.size, FRAME.unpack_from(frame, start)[0]


def request_head(raw) -> dict:
    """The head of a request that ``read_request`` holds, read as JSON: nothing is unpickled."""
    at, length = _head(raw[0])
    return json.loads(bytes(raw[0][at:at + length]))


def load_request(raw, held):
    """The request a ``read_request`` holds (the checks' own pickles); each storage the checks sent as a file's
    path becomes ``held(path)`` (tbcourse.grading.worker.map_held)."""
    frame, buffers = raw
    at, length = _head(frame)
    return _Unpickler(memoryview(frame)[at + length:], buffers, held).load()


def receive_request(fd: int, held):
    """``load_request`` of the next request on ``fd``; None when the checks closed the channel."""
    raw = read_request(fd)
    return None if raw is None else load_request(raw, held)


def write_frame(fd: int, data: bytes) -> None:
    _write_all(fd, FRAME.pack(len(data)) + data)


def _write_all(fd: int, data) -> None:
    view = memoryview(data).cast("B")
    while view:
        view = view[os.write(fd, view):]


def read_frame(fd: int, limit: int | None = None) -> bytes | None:
    """One frame, or None when the other end closed; FrameTooLarge, before reading it, when it says it is
    longer than ``limit`` bytes."""
    head = _read_exactly(fd, FRAME.size)
    if head is None:
        return None
    size = FRAME.unpack(head)[0]
    if limit is not None and size > limit:
        raise FrameTooLarge(f"{size} bytes")
    return _read_exactly(fd, size) or b""


def _read_exactly(fd, n):
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def lesson_imports(folder: Path = SOLUTIONS if SOLUTIONS.is_dir() else LESSONS) -> list[str]:
    """Every module that a lesson imports, anywhere in its file (the course's own code left out): read from
    the solutions, or in a student release from the lessons, where a file that does not parse is passed over."""
    found = set()
    for name in lesson_names(folder):
        try:
            tree = ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))
        except (SyntaxError, ValueError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)  # maybe a submodule
    return sorted(name for name in found if name.split(".")[0] != "tbcourse")


PRELOAD = lesson_imports()


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
    ``process`` is a subprocess.Popen or a ``_Forked`` (poll, wait, kill, pid), the leader of its process group."""

    def __init__(self, process, requests: int, replies: int, describe: str, owned=()):
        self.process, self.requests = process, requests
        self.describe, self.owned, self.ready = describe, owned, False
        self.replies = queue.Queue()
        threading.Thread(target=pump, args=(lambda: read_frame(replies), self.replies), daemon=True).start()

    @classmethod
    def started(cls, command: list[str], env: dict, cwd: Path | None = None) -> "Worker":
        """The worker program run as ``command``, its channel on its standard input and output."""
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=cwd,
                                   start_new_session=hasattr(os, "setsid"))
        return cls(process, process.stdin.fileno(), process.stdout.fileno(), " ".join(command),
                   (process.stdin, process.stdout))

    @classmethod
    def forked(cls) -> "Worker":
        """A worker forked from multiprocessing's forkserver, which imported the lessons' libraries once
        (``warm_up``); its channel is a pair of pipes."""
        context = _forkserver()
        requests, to_worker = context.Pipe(duplex=False)
        from_worker, replies = context.Pipe(duplex=False)
        process = context.Process(target=_serve_forked, args=(requests, replies), daemon=True)
        try:
            process.start()
        except (OSError, EOFError, RuntimeError) as err:  # the forkserver could not start, or died
            for end in (requests, to_worker, from_worker, replies):
                end.close()
            raise WorkerError(f"the forkserver could not fork a worker ({type(err).__name__}: {err})") from None
        requests.close()
        replies.close()
        return cls(_Forked(process), to_worker.fileno(), from_worker.fileno(), "a worker forked from the forkserver",
                   (to_worker, from_worker))

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
        """The reply to an ``encode_request``; None when the worker died; TimeoutError when it did not answer in time."""
        self.wait_ready()
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


class _Forked:
    """A multiprocessing.Process seen as a subprocess.Popen."""

    def __init__(self, process):
        self.pid, self._process = process.pid, process

    def poll(self):
        return self._process.exitcode

    def wait(self):
        self._process.join()
        return self._process.exitcode

    def kill(self):
        self._process.kill()


def _forkserver():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tbcourse.grading.gc_off", *PRELOAD, "tbcourse.grading.worker"])
    return context


def _serve_forked(requests, replies):
    from tbcourse.grading import worker

    worker.serve_forked(requests.fileno(), replies.fileno())


_workers: dict[str, Worker] = {}


def close_all() -> None:
    """Close every worker: the grading session is over."""
    for key in list(_workers):
        forget(key)


atexit.register(close_all)


def worker_for(path: Path, settings: Settings) -> tuple[str, Worker]:
    """fork, spawn: one worker per lesson file, which runs its calls itself, forked from the forkserver or
    started afresh. bwrap, unprivileged: one per grade inside the boundary, which forks (a lesson worker per
    lesson, or a child per call), reads the work folder and the checks' temporary folder, and works in the
    scratch folder."""
    key = f"{settings.method} {path}" if settings.method not in BOUNDARIES else f"{settings.method} {settings.scratch}"
    if key not in _workers or _workers[key].process.poll() is not None:
        if settings.method not in BOUNDARIES:  # the tests go lesson by lesson: the last lesson's worker is done
            for done in [k for k in _workers if k.startswith(f"{settings.method} ") and k != key]:
                forget(done)
        if settings.method == "fork":
            _workers[key] = Worker.forked()
            return key, _workers[key]
        env = {k: v for k, v in os.environ.items() if k != ENV["record"]}
        preload = f"--preload={','.join(PRELOAD)}"
        if settings.method == "spawn":
            command = [sys.executable, *SAFE_PATH, "-m", "tbcourse.grading.worker", preload]
        else:
            if settings.scratch is None:
                raise WorkerError(f"the {settings.method} start method needs a scratch folder ({ENV['scratch']})")
            env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ}
            if settings.method == "bwrap":
                readable = [Path(path).parent, settings.work.resolve(), *filter(None, [settings.checks_tmp])]
                command = boundary.command(readable, settings.scratch, [preload], env)
            else:
                command, env = unprivileged.command(settings.scratch, [preload], env)
        _workers[key] = Worker.started(command, env, Path("/") if settings.method in BOUNDARIES else None)
    return key, _workers[key]


def forget(key: str) -> None:
    """Close the worker ``key`` (it timed out) or let it go (it died); the next call starts another."""
    _workers.pop(key).close()


def warm_up(settings: Settings) -> None:
    """Start what the grade about to run will need, without waiting for its imports: the forkserver (fork),
    or the boundary's worker. A warm process that grades again (make watch) first closes the workers that ran
    calls themselves: what an earlier version of a lesson patched at import must not reach this grade."""
    for key in [k for k in _workers if not k.startswith(BOUNDARIES)]:
        forget(key)
    if settings.method == "fork":
        from multiprocessing import forkserver  # a Unix module: not imported where spawn is the only way

        _forkserver()
        forkserver.ensure_running()
    elif settings.method in BOUNDARIES and settings.scratch and settings.work.is_dir():
        worker_for(settings.work.resolve() / "lesson.py", settings)
