"""The installed TensorBoard, serving a log folder on 127.0.0.1 for as long as a ``with`` block lasts.

    with serve("runs") as url:            # e.g. "http://127.0.0.1:43817", every run already loaded
        runs = json.loads(fetch(url, "/data/runs"))

TensorBoard runs as ``python -m tensorboard.main`` with the Python loader (``--load_fast=false``)
reading the logs once, before it opens its port (``--reload_task=blocking --reload_interval=0``):
so the first answer of its HTTP API already holds every run. Every step is kept (``SAMPLES``).
"""
import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
SAMPLES = "images=1000,histograms=1000,scalars=10000"  # TensorBoard's defaults keep 10 images, 500 histograms
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through an http_proxy


class TensorBoardError(RuntimeError):
    """TensorBoard could not serve the logs."""


def fetch(url: str, path: str, timeout: float = 30, **query) -> bytes:
    """The body of ``GET url + path?query`` (an HTTPError for any status but 200)."""
    with _LOCAL.open(f"{url}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else ""), timeout=timeout) as reply:
        return reply.read()


def run_names(logdir) -> set[str]:
    """The runs TensorBoard lists: every folder under ``logdir`` with an event file, relative ('.' for itself)."""
    logdir = Path(logdir)
    return {event.parent.relative_to(logdir).as_posix() for event in logdir.rglob("*tfevents*") if event.is_file()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
        return False


@contextlib.contextmanager
def serve(logdir, port: int | None = None, timeout: float = 60.0, extra_args=()):
    """Start TensorBoard over ``logdir``, wait (at most ``timeout`` s) until it lists every run, yield its URL.

    TensorBoard is stopped when the block ends, however it ends. Raises TensorBoardError, before starting
    anything, for a missing log folder, one without event files, or a ``port`` already in use; and, with the
    end of TensorBoard's stderr, when it exits early or does not serve the runs in time.
    """
    logdir = Path(logdir).resolve()
    if not logdir.is_dir():
        raise TensorBoardError(f"no log directory {logdir}: run the lessons first (make run)")
    expected = run_names(logdir)
    if not expected:
        raise TensorBoardError(f"{logdir} holds no event file (events.out.tfevents.*): run the lessons first")
    port = port or free_port()
    if _port_taken(port):
        raise TensorBoardError(f"port {port} on {HOST} is already in use: stop what listens there or pick another")
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", logdir.name, "--host", HOST, "--port", str(port),
               "--samples_per_plugin", SAMPLES, "--load_fast=false", "--reload_task=blocking", "--reload_interval=0",
               *extra_args]
    url = f"http://{HOST}:{port}"
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, cwd=logdir.parent, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=stderr)  # from the parent folder, so the page shows the folder's name only
        try:
            _wait_for_runs(process, url, expected, timeout, stderr)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_runs(process, url, expected, timeout, stderr):
    deadline, listed = time.monotonic() + timeout, set()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise TensorBoardError(f"TensorBoard exited with code {process.returncode} before serving: {_tail(stderr)}")
        try:
            listed = set(json.loads(fetch(url, "/data/runs", timeout=2)))
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass  # not listening yet
        if expected <= listed:
            return
        time.sleep(0.1)
    missing = sorted(expected - listed)
    raise TensorBoardError(f"TensorBoard did not serve all runs at {url} within {timeout:g} s "
                           f"({len(missing)} of {len(expected)} missing, e.g. {missing[:3]}): {_tail(stderr)}")


def _tail(stderr, lines: int = 15) -> str:
    stderr.seek(0)
    text = stderr.read().decode(errors="replace").strip().splitlines()[-lines:]
    return "its stderr ends with:\n" + "\n".join(text) if text else "its stderr is empty"
