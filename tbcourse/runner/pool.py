"""The workers of the grading session in this process, by lesson (fork, spawn) or by grade (bwrap,
unprivileged): started on first use as the ``start_method`` setting says, replaced when one died or ran
past its time limit, and all closed when the session ends."""
import atexit
import os
from pathlib import Path

from tbcourse.runner.methods import bwrap, fork, hostuser, spawn, unprivileged
from tbcourse.runner.preload import PRELOAD
from tbcourse.runner.process import Worker, WorkerError
from tbcourse.runner.showing import shown_folder
from tbcourse.settings import BOUNDARIES, ENV, Settings

_workers: dict[str, Worker] = {}


def close_all() -> None:
    """Close every worker: the grading session is over."""
    for key in list(_workers):
        forget(key)


atexit.register(close_all)


def worker_for(path: Path, settings: Settings) -> tuple[str, Worker]:
    """fork, spawn: one worker per lesson file, which runs its calls itself, forked from the forkserver or
    started afresh. bwrap, unprivileged: one per grade inside the boundary, which forks (a lesson worker per
    lesson, or a child per call), reads the work folder and what the current call is shown of the checks'
    temporary folder (``showing``), and works in the scratch folder."""
    key = f"{settings.method} {path}" if settings.method not in BOUNDARIES else f"{settings.method} {settings.scratch}"
    if key not in _workers or _workers[key].process.poll() is not None:
        if settings.method not in BOUNDARIES:  # the tests go lesson by lesson: the last lesson's worker is done
            for done in [k for k in _workers if k.startswith(f"{settings.method} ") and k != key]:
                forget(done)
        if settings.method == "fork":
            _workers[key] = fork.start()
            return key, _workers[key]
        env = {k: v for k, v in os.environ.items() if k != ENV["record"]}
        preload = f"--preload={','.join(PRELOAD)}"
        if settings.method == "spawn":
            command = spawn.command([preload])
        else:
            if settings.scratch is None:
                raise WorkerError(f"the {settings.method} start method needs a scratch folder ({ENV['scratch']})")
            env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ}
            readable = [Path(path).parent, settings.work.resolve(),
                        *([shown_folder(settings.checks_tmp)] if settings.checks_tmp else [])]
            user = _sandbox_user(settings.scratch, readable)
            if settings.method == "bwrap":
                command = bwrap.command(readable, settings.scratch, [preload], env, user)
            else:
                command, env = unprivileged.command(settings.scratch, [preload], env, user)
        boundary = settings.method in BOUNDARIES
        _workers[key] = Worker.started(command, env, Path("/") if boundary else None, bounded=boundary)
        if settings.method in BOUNDARIES and user:
            _workers[key].owned = (*_workers[key].owned, user)  # closed with the worker: its processes end
    return key, _workers[key]


def _sandbox_user(scratch: Path, readable: list[Path]) -> hostuser.SandboxUser | None:
    """Where the grader is root, the uid of its own that the boundary's worker runs as, which owns the scratch
    folder and may read the ``readable`` ones; None where the grader is not root (bubblewrap then runs as the
    grader's own user, who is not the host's root either)."""
    if not hostuser.needed():
        return None
    try:
        user = hostuser.claim()
    except OSError as err:
        raise WorkerError(f"no uid to run student code as: {err}") from None
    unprivileged.hand_over(scratch, user.uid)
    unprivileged.let_read(*readable)
    os.umask(0o022)  # what the checks write for student code from now on (a test's image file), that uid may read
    return user


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
        fork.warm_up()
    elif settings.method in BOUNDARIES and settings.scratch and settings.work.is_dir():
        worker_for(settings.work.resolve() / "lesson.py", settings)
