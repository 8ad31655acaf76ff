"""The runner's face, the one module of ``tbcourse.runner`` that grading/ and platforms/ import.

    warm_up(settings)                  start what the session will need (the forkserver, a boundary's worker)
    call(path, function, args, kwargs) run ``function`` of the lesson file ``path`` apart: plain data back,
                                       or StudentError / a Python exception the student's code raised, or
                                       CallFailed with a one-line reason
    import_problem(path)               why the lesson file cannot even be imported, or None
    hold(module)                       keep a model that many calls are handed in the files they map: once in memory
    close_all()                        close every worker of the session
    check(method)                      BoundaryMissing unless that boundary ("bwrap", "unprivileged") works here
    let_read(*folders)                 open folders to the uid student code runs as (the course, on Gradescope)
    temporary_folder(prefix)           a temporary folder of the checks, which the next checker removes if this
                                       one is killed before it can

The start method and the limits come from ``tbcourse.settings.Settings`` (the environment). Importing this
module imports no torch, so a session can start its workers before the checks import their libraries.
"""
from pathlib import Path

from tbcourse.runner.errors import TIMED_OUT, CallFailed, StudentError
from tbcourse.runner.leftovers import temporary_folder
from tbcourse.runner.methods import bwrap, unprivileged
from tbcourse.runner.methods.bwrap import BoundaryMissing
from tbcourse.runner.methods.unprivileged import let_read
from tbcourse.runner.pool import close_all, warm_up
from tbcourse.runner.process import pump

__all__ = ["TIMED_OUT", "BoundaryMissing", "CallFailed", "StudentError", "call", "check", "close_all", "hold",
           "import_problem", "let_read", "pump", "temporary_folder", "warm_up"]
CHECKS = {"bwrap": bwrap.check, "unprivileged": unprivileged.check}


def call(path: Path, function: str | None, args: tuple, kwargs: dict):
    """``function(*args, **kwargs)`` of the lesson file ``path``, run in a worker apart from the checks."""
    from tbcourse.runner import proxy  # imports torch: only once a call is made

    return proxy.call(path, function, args, kwargs)


def import_problem(path: Path) -> str | None:
    """Why the lesson file ``path`` cannot even be imported, or None."""
    from tbcourse.runner import proxy

    return proxy.import_problem(path)


def hold(module) -> None:
    """Keep the large storages of ``module`` (a model many calls are handed) in the files that the calls map, so
    that the checks and student code's workers share its memory."""
    from tbcourse.runner import proxy

    proxy.hold(module)


def check(method: str) -> None:
    """BoundaryMissing, saying why and what to do, unless student code can be run inside ``method`` here."""
    CHECKS[method]()

