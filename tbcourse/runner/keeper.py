"""bwrap's first process: the keeper of a PID namespace, which runs no student code (``keep_lessons``)."""
import array
import ctypes
import fcntl
import os
import select
import signal
import termios
from pathlib import Path

import torch

from tbcourse.runner import bounds
from tbcourse.runner.call import DIED, limit_memory, too_large, serve
from tbcourse.runner.framing import FrameTooLarge, forward_request, read_frame, read_request, request_head, write_frame
from tbcourse.runner.holding import HOLD_AT_MOST
from tbcourse.settings import ENV

PR_SET_DUMPABLE = 4  # prctl(2)
FILE_BYTES = 2**28  # the largest file student code inside bubblewrap may write (an event file: at most this)


def keep_lessons(requests: int, replies: int) -> None:
    """bwrap: the first process of the worker's PID namespace keeps the channel and the imported libraries,
    and runs no student code. For each lesson it forks a lesson worker, which runs that lesson's calls itself
    (``serve``) on pipes of its own, with a hard memory limit set before any student code runs. After each
    call, unless the lesson worker is alone in the namespace with a single thread, every process but this
    one is killed (``os.kill(-1)``, which nothing escapes, in descendant namespaces too) and the next call
    gets a new lesson worker: nothing a call starts outlives it, and the check is made by a process that
    student code can neither signal, trace nor patch (``tbcourse.runner.worker.untouchable``)."""
    torch.set_num_threads(1)  # a forked child cannot use the parent's OpenMP pool
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))  # for every process it forks
    lesson = None
    while (raw := read_request(requests)) is not None:
        head = request_head(raw)  # which lesson, and its memory: the keeper unpickles nothing
        if lesson is not None and lesson.path != head["path"]:
            lesson = lesson.end()
        fresh = lesson is None
        if fresh:
            lesson = _Lesson(head["path"], head["memory_mb"], (requests, replies))
        reply, sound, taken = _forward(lesson, raw, head["memory_mb"])
        if not taken and not fresh:  # the last call's worker was on its way out (it had forged its own reply
            lesson.end()  # and was stopped before it could end): this call never ran, so it runs in a new one
            lesson = _Lesson(head["path"], head["memory_mb"], (requests, replies))
            reply, sound, _ = _forward(lesson, raw, head["memory_mb"])
        if not sound:
            lesson = lesson.end()
        write_frame(replies, reply or DIED)


def _forward(lesson: "_Lesson", raw, memory_mb: int) -> tuple[bytes | None, bool, bool]:
    """Run one call in ``lesson``: (its reply, None if it died; whether the lesson worker is sound for the next
    call; whether it took the whole request before it died, if it did — a worker that never took it never ran it)."""
    try:
        watch = bounds.Watch(memory_mb, os.environ.get(ENV["scratch"]), lesson.baseline.now())
        os.kill(lesson.pid, signal.SIGCONT)  # stopped since its last call (a new one: not yet, no matter)
        forward_request(lesson.requests, raw)
        while not select.select([lesson.replies], [], [], bounds.POLL_SECONDS)[0]:
            if (over := watch.over()) is not None:  # the call's processes together: end them all
                _end_all_but_the_keeper()
                watch.ended()
                return over, False, True
        reply = read_frame(lesson.replies, limit=memory_mb * 2**20)
    except FrameTooLarge:  # not read, let alone held: what follows it on the pipe is no reply either
        return too_large(memory_mb), False, True
    except OSError:  # its pipe broke before the request was through: it died without taking it
        return None, False, False
    if reply is None:
        return None, False, _unread(lesson.requests) == 0
    return reply, lesson.stopped() and lesson.alone(), True


def _unread(fd: int) -> int:
    """How many bytes written to the pipe ``fd`` its reader has not taken."""
    count = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, count)
    return count[0]


class _Lesson:
    """A lesson worker of ``keep_lessons``: a child that runs one lesson's calls, and its two pipes."""
    ROOM = HOLD_AT_MOST // 2**20 + 128  # MB beyond a call's own: the files it maps, and the heap's growth

    def __init__(self, path: str, memory_mb: int, channel: tuple[int, int]):
        self.path, self.baseline = path, bounds.Baseline()
        requests, self.requests = os.pipe()
        self.replies, replies = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                for fd in (*channel, self.requests, self.replies):
                    os.close(fd)
                ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # the keeper may read its memory's size
                limit_memory(memory_mb + self.ROOM, hard=True)  # each call then sets its own below this
                serve(requests, replies)
            finally:
                os._exit(0)
        os.close(requests)
        os.close(replies)

    def stopped(self) -> bool:
        """Stop it (SIGSTOP, which it can neither catch nor ignore) until the next call, so that no code of the
        call runs on, between its reply and ``alone``, or between calls; False if it is gone instead."""
        os.kill(self.pid, signal.SIGSTOP)
        while True:
            _, status = os.waitpid(self.pid, os.WUNTRACED)
            if not os.WIFSTOPPED(status):
                return False
            try:
                if Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T":
                    return True
            except (OSError, IndexError):
                return False

    def alone(self) -> bool:
        """Whether this lesson worker has one thread and no process but the keeper is beside it. Its threads
        are read first: a process that a thread started before ending is in /proc by then."""
        try:
            threads = int(Path(f"/proc/{self.pid}/status").read_text().split("Threads:")[1].split()[0])
            return threads == 1 and {int(n) for n in os.listdir("/proc") if n.isdigit()} == {1, self.pid}
        except (OSError, IndexError, ValueError):
            return False

    def end(self) -> None:
        """Kill it and everything else in the namespace but the keeper, and wait for all of them: the orphans
        of the namespace are the keeper's children, and no zombie is left for ``alone`` to find."""
        _end_all_but_the_keeper()
        os.close(self.requests)
        os.close(self.replies)


def _end_all_but_the_keeper() -> None:
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:  # nothing left to kill: the lesson worker ended, and ``stopped`` reaped it
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
