"""A warm checking process for grading a class: one student's graded tests after another, in one process.

``make grade`` runs a ``Checker`` per student graded at once. Its process runs pytest with the grading plugin
for each student in turn, as ``make test`` runs it in a fresh process, so a class pays for importing the
checks' libraries once per checker rather than once per student. No student code runs here: each student's
code runs in a worker of its own (``tbcourse.runner``), started when that student's session begins
and closed when it ends, and what the tests record is read from that student's own record file.

    python -m tbcourse.grading.checker    # one job a line on stdin (JSON), its exit code a line on stdout
"""
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

from tbcourse.runner import api
from tbcourse.settings import ROOT


class Checker:
    """The driver's end: a checking process, started on first use and again after it died."""

    def __init__(self, env: dict[str, str]):
        self.env, self.process, self.replies = env, None, None

    def run(self, args: list[str], env: dict[str, str], log: Path, seconds: float) -> int | None:
        """pytest's exit code for ``args``, run with ``env`` added to the environment and its output in ``log``;
        None when the process died or took longer than ``seconds`` (it is then ended)."""
        if self.process is None or self.process.poll() is not None:
            self._start()
        try:
            self.process.stdin.write(json.dumps({"args": args, "env": env, "log": str(log)}) + "\n")
            self.process.stdin.flush()
            reply = self.replies.get(timeout=seconds)
        except (OSError, queue.Empty):
            reply = None
        if reply is None:
            self.close()
            return None
        return json.loads(reply)["exit"]

    def _start(self):
        self.process = subprocess.Popen([sys.executable, "-m", "tbcourse.grading.checker"], cwd=ROOT, text=True,
                                        env={**os.environ, **self.env}, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.replies, stream = queue.Queue(), self.process.stdout  # this process's own: a restart gets another
        threading.Thread(target=api.pump, args=(lambda: stream.readline() or None, self.replies),
                         daemon=True).start()

    def close(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process.stdin.close()
            self.process.stdout.close()
            self.process = None


def serve() -> None:
    """Run each job as it comes (``run_in_process``), its exit code a line on the standard output it started with."""
    replies = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    _point(devnull, devnull)  # nothing printed between jobs can pass for a reply
    os.close(devnull)
    for line in sys.stdin:
        job = json.loads(line)
        code = run_in_process(job["args"], job["env"], Path(job["log"]))
        replies.write(json.dumps({"exit": code}) + "\n")
        replies.flush()


def run_in_process(args: list[str], env: dict[str, str], log: Path) -> int:
    """pytest's exit code for ``args``, run in this warm process (a class's checker, ``make watch``) as ``make test``
    runs it in a fresh one: ``env`` added to the environment for this session only, its output (Python's and the
    libraries') appended to ``log``, and the workers that ran its student code closed when it ends."""
    import pytest

    saved_env, saved = dict(os.environ), (os.dup(1), os.dup(2))
    os.environ.update(env)
    try:
        with open(log, "a", encoding="utf-8") as out:
            _point(out.fileno(), out.fileno())
            return int(pytest.main(args))
    finally:
        api.close_all()  # this session's workers: the next session's are its own
        _point(*saved)
        for fd in saved:
            os.close(fd)
        os.environ.clear()
        os.environ.update(saved_env)


def _point(out: int, err: int) -> None:
    """Send standard output and error, Python's and the libraries', to the descriptors ``out`` and ``err``."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(out, 1)
    os.dup2(err, 2)


if __name__ == "__main__":
    serve()
