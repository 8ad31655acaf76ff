"""The checks' side of a call of student code: start it apart, wait for it, and believe only plain data.

The graded tests check in their own process; the student's module is imported and called only in the
worker (``tbcourse.runner.worker``), started (``tbcourse.runner.pool``) as the ``start_method`` setting
says: a worker per lesson that runs the lesson's calls itself, forked from multiprocessing's forkserver
(``fork``, Linux) or started afresh (``spawn``: Windows, macOS, or ``COURSE_START_METHOD=spawn``); or one
worker per grade inside bubblewrap (``make grade``), which forks a lesson worker per lesson and replaces it
after any call that leaves a thread or process behind, or, where bubblewrap cannot run, one that forks a
child per call as an unprivileged user (``tbcourse.runner.methods.unprivileged``, on Gradescope). Whatever the
student's code does there — patch torch or numpy, call ``os._exit``, loop forever, exhaust memory — it
cannot touch the checks, and it costs that call only (at most the later calls of its lesson too, where
they share a worker: a worker that died or ran past the time limit is replaced).

- A ``SummaryWriter`` argument is replaced in the worker by a writer of its own, flushed after the call;
  inside a boundary it writes to the scratch folder and only its event files are copied back.
- Inside a boundary a call reads, of the checks' temporary folder, only what it is handed: the files and
  folders its arguments name by path and the files of its large tensors, shown to it for that call
  (``tbcourse.runner.showing``); an argument naming such a path reaches it naming the shown copy.
- Tensor arguments that the call changed in place (the notes' ``transpose_``) are changed the same way
  here afterwards, so a test can see it.
- The reply is decoded by ``tbcourse.runner.wire``, which rebuilds only plain data: an object of the
  student's own class — one that claims to equal anything — cannot come back, and nothing in a reply can
  run code here. A module, parameter or tensor of the arguments comes back as the checks' own object.
- The course's contract holds for every call: a ``SummaryWriter`` it was given is not closed, and no
  hook is left on a model it was given.
- Limits (``tbcourse.settings.Settings``): ``call_seconds`` per call, ``call_memory_mb`` of address space
  beyond what the worker had when the call started.
"""
import builtins
import itertools
import os
import shutil
import stat
from pathlib import Path

from torch.utils.tensorboard import SummaryWriter

from tbcourse.runner import pool, wire
from tbcourse.runner.errors import TIMED_OUT, CallFailed, StudentError, shortened
from tbcourse.runner.holding import Holding
from tbcourse.runner.leftovers import temporary_folder
from tbcourse.runner.methods import hostuser
from tbcourse.runner.process import WorkerError
from tbcourse.runner.request import Request, encode_request
from tbcourse.runner.showing import Shown
from tbcourse.settings import BOUNDARIES, Settings

MAX_EVENT_BYTES = 256 * 2**20  # of the event files taken back from one call, over all of them
MAX_EVENT_FILES = 16  # taken back for each writer of a call (a lesson's writer makes one)


def import_problem(path: Path) -> str | None:
    """Why the lesson file ``path`` cannot even be imported, or None."""
    try:
        call(path, None, (), {})
    except CallFailed as err:
        return str(err)
    return None


def call(path: Path, function: str | None, args: tuple, kwargs: dict):
    """``function(*args, **kwargs)`` from the lesson file ``path``, run apart from the checks.

    With ``function`` None the worker only imports the file."""
    settings = Settings.from_env()
    return _unpack(_worker_call(path, function, args, kwargs, settings), path, function, args, kwargs, settings)


_calls: dict[Path, itertools.count] = {}  # the session's scratch folder: each student's calls are call1, call2, ...
_holdings: dict[Path, Holding] = {}
_shown: dict[Path, Shown] = {}  # the session's checks' folder: what of it the current call is shown
_held_tmp = temporary_folder("course-held-")  # where no checks' folder is set


def _holding(settings: Settings) -> Holding:
    """The files of large storages that workers map, in the checks' temporary folder (shown to sandboxed student
    code, a file at a time, when a call is handed its tensor: ``Shown``)."""
    folder = settings.checks_tmp / "held" if settings.checks_tmp else Path(_held_tmp.name)
    if folder not in _holdings:  # a new grading session: the last one's files are no longer needed
        for done in _holdings.values():
            done.close()
        _holdings.clear()
        _holdings[folder] = Holding(folder)
    return _holdings[folder]


def hold(module) -> None:
    """Keep the large storages of ``module``, which many calls will be handed, in the files the calls map
    (``Holding.adopt``)."""
    _holding(Settings.from_env()).adopt(module)


def _showing(settings: Settings) -> Shown | None:
    """Inside a boundary, what the current call may read of the checks' folder (``tbcourse.runner.showing``)."""
    if settings.method not in BOUNDARIES or settings.checks_tmp is None:
        return None
    if settings.checks_tmp not in _shown:  # a new grading session
        _shown.clear()
        _shown[settings.checks_tmp] = Shown(settings.checks_tmp, settings.scratch, hostuser.needed())
    return _shown[settings.checks_tmp]


def _worker_call(path, function, args, kwargs, settings):
    writer_dirs, values, shown = {}, [*args, *kwargs.values()], _showing(settings)
    if settings.method in BOUNDARIES:
        if settings.scratch not in _calls:  # a new session (a class's checker grades one student after another)
            _calls.clear()
            _calls[settings.scratch] = itertools.count(1)
        folder = settings.scratch / f"call{next(_calls[settings.scratch])}"
        for n, value in enumerate(values):
            if isinstance(value, SummaryWriter):
                writer_dirs[id(value)] = str(folder / f"writer{n}")
    try:
        key, worker = pool.worker_for(path, settings)
        request = encode_request(Request(str(path), function, args, kwargs, settings.call_memory_mb), writer_dirs,
                                 _holding(settings), shown)
        reply = worker.call(request, settings.call_seconds)
    except WorkerError as err:
        raise _fail(str(err)) from None
    except TimeoutError:
        pool.forget(key)
        raise _timed_out(path, function, settings) from None
    finally:
        _take_back_event_files(writer_dirs, [*args, *kwargs.values()], settings.scratch)
        if shown:
            shown.clear()
    if reply is None:
        code = worker.process.wait()
        pool.forget(key)
        raise _fail(f"{_doing(path, function)} ended the process (exit code {code}): does it call os._exit or "
                    "sys.exit, crash, or use too much memory?")
    return reply


def _take_back_event_files(writer_dirs, values, scratch):
    """Copy the event files a sandboxed call wrote for each writer into that writer's own folder: regular
    files only, none overwritten, at most MAX_EVENT_FILES a writer and MAX_EVENT_BYTES over all, and no link
    followed on the way from the scratch folder to them (a call may have made its writer's folder, or the one
    above, a link)."""
    room = MAX_EVENT_BYTES
    for value in values:
        if id(value) not in writer_dirs:
            continue
        try:
            folder = _open_below(scratch, Path(writer_dirs[id(value)]))
        except OSError:
            continue
        try:
            with os.scandir(folder) as entries:
                names = sorted(e.name for e in entries if e.name.startswith("events.out.tfevents.")
                               and e.is_file(follow_symlinks=False))
            for name in names[:MAX_EVENT_FILES]:
                with os.fdopen(os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=folder), "rb") as source:
                    info = os.fstat(source.fileno())
                    if stat.S_ISREG(info.st_mode) and info.st_size <= room:
                        room -= info.st_size
                        with open(Path(value.log_dir) / name, "xb") as target:
                            left = info.st_size  # no more than it had: a file still growing stops there
                            while left and (chunk := source.read(min(left, 2**20))):
                                target.write(chunk)
                                left -= len(chunk)
        finally:
            os.close(folder)
    if writer_dirs:
        shutil.rmtree(Path(next(iter(writer_dirs.values()))).parent, ignore_errors=True)


def _open_below(top: Path, path: Path) -> int:
    """A descriptor of the folder ``path`` inside ``top``, opened one name at a time, none of them a link."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in path.relative_to(top).parts:
            below = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = below
    except BaseException:
        os.close(fd)
        raise
    return fd


def _unpack(payload, path, function, args, kwargs, settings):
    try:
        reply = wire.decode(payload)
        kind = reply[0]
        if kind in ("failed", "died"):
            message = reply[1] if kind == "failed" else f"{_doing(path, function)} ended the process: {reply[1]}"
            raise _fail(shortened(str(message)))
        if kind == "raised":
            _, name, message, where = reply
            if not all(isinstance(s, str) for s in (name, message, where)):
                raise wire.WireError("a malformed exception")
            name, message, where = shortened(name), shortened(message), shortened(where)
        elif kind != "returned" or not isinstance(reply[1], bytes) or not isinstance(reply[2], bytes):
            raise wire.WireError(f"an unknown reply {kind!r:.40}")
    except (wire.WireError, TypeError, ValueError, IndexError) as err:
        raise _fail(f"{_doing(path, function)}: the reply could not be read ({err})") from None
    if kind == "raised":
        if name == "MemoryError":
            message = f"the call needed more memory than the grader allows ({settings.call_memory_mb} MB)"
        error = getattr(builtins, name, None)
        if isinstance(error, type) and issubclass(error, Exception) and name not in ("AssertionError", "MemoryError"):
            raise error(f"{message}{where}")
        raise StudentError(f"{name}: {message}{where}")
    _, result, after = reply
    try:
        changed = wire.decode(after)
        if not isinstance(changed, dict):
            raise wire.WireError("a malformed reply")
        for key, new in changed.items():
            old = _argument(args, kwargs, key)
            if old.shape != new.shape or old.stride() != new.stride() or not bool((old == new).all()):
                old.data = new.detach()
        return wire.decode(result, lambda ref: _resolve(ref, args, kwargs))
    except wire.WireError as err:
        raise _fail(f"{function}() returned an object of type {err}; return plain data "
                    "(tensors, arrays, numbers, lists, dicts) as the syllabus says") from None
    except (KeyError, IndexError, AttributeError, TypeError) as err:
        raise _fail(f"{_doing(path, function)}: the reply named something it was not given ({err})") from None


def _argument(args, kwargs, key):
    value = args[key] if isinstance(key, int) else kwargs[key]
    if not hasattr(value, "shape"):
        raise TypeError(f"argument {key!r} is not a tensor")
    return value


def _resolve(ref: wire.Ref, args, kwargs):
    value = args[ref.key] if isinstance(ref.key, int) else kwargs[ref.key]
    if ref.kind == "argument":
        return value
    if ref.kind == "module":
        return value.get_submodule(ref.name)
    if ref.kind == "parameter":
        return value.get_parameter(ref.name)
    raise wire.WireError(f"a reference of kind {ref.kind!r:.20}")


def _timed_out(path, function, settings):
    return _fail(f"{TIMED_OUT} ({settings.call_seconds:.0f}s) {_doing(path, function)}: an endless loop, "
                 "or far too slow?")


def _doing(path, function):
    return f"in {function}()" if function else f"importing {path.name}"


def _fail(message):
    return CallFailed(message)
