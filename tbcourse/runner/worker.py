"""The program that runs student code: ``python -m tbcourse.runner.worker [--pid-namespace] [--preload=a,b]``.

Started by a start method (``tbcourse.runner.methods``): requests arrive on its standard input, replies leave
on the standard output it had at start, and the student's prints go to standard error. It imports what the
lessons import, says READY, then serves: as bwrap's keeper (``--pid-namespace``: ``tbcourse.runner.keeper``),
forking a child per call (unprivileged), or running each call itself (spawn). It trusts nothing it is sent
beyond the checks' own pickles, and the checks trust nothing it replies beyond what ``wire.decode`` rebuilds.
"""
import gc
import os
import signal
import sys

from tbcourse.runner.framing import READY, write_frame
from tbcourse.runner.preload import preload
from tbcourse.settings import GRADED_TESTS, Settings

PR_SET_DUMPABLE = 4  # prctl(2)


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    own_pid_namespace = "--pid-namespace" in argv
    if own_pid_namespace:
        if os.getpid() != 1:
            sys.exit("worker: --pid-namespace given, but this process is not the first of a PID namespace")
        untouchable()
    # The channel keeps the descriptors the worker started with; the student's prints go to stderr.
    requests, replies = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.path.insert(0, str(GRADED_TESTS))  # the classes the graded tests hand to student code (helpers.py)
    gc.disable()  # no collection while importing: a fifth of the time of importing torch goes to it
    preload([name for arg in argv if arg.startswith("--preload=") for name in arg.split("=", 1)[1].split(",")])
    from tbcourse.runner import call, keeper  # they import torch: after the preload, with collection off
    gc.freeze()  # what is imported now stays out of the collections of forked calls, which would copy its pages
    gc.enable()
    scratch = Settings.from_env().scratch
    if scratch:  # a boundary's worker starts where student code cannot write (SAFE_PATH), and works here
        os.chdir(scratch)
    write_frame(replies, READY)  # the checks start timing calls from here, not from the imports above
    if own_pid_namespace:
        keeper.keep_lessons(requests, replies)
    elif hasattr(os, "fork") and Settings.from_env().method != "spawn":
        call.serve_forking(requests, replies)
    else:
        call.serve(requests, replies)


def untouchable() -> None:
    """Make this process, the first of its PID namespace, one that the lesson workers it forks (which run as the
    same user) cannot trace or read through /proc (its memory, its descriptors, its environment), nor signal: the
    first process of a namespace gets from inside it only the signals it handles, and it handles none."""
    import ctypes

    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        sys.exit(f"worker: prctl(PR_SET_DUMPABLE) failed: {os.strerror(ctypes.get_errno())}")
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Python's KeyboardInterrupt handler


if __name__ == "__main__":
    main()
