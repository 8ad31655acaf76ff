"""The one process that runs student code: a call comes in, plain data goes out (``tbcourse.grading.wire``).

``run_call`` is a call of student code: it limits its own memory, imports the lesson file, swaps each
SummaryWriter argument for its own writer on the folder it is told, calls the function, checks the
course's contract (the writer left open, no hook left on a model) and encodes the reply. The checks
(``tbcourse.grading.sandbox``) start it in one of three ways, the ``start_method`` setting:

- ``fork``: a child forked from the test process for each call, which inherits the arguments (Linux,
  the default for checking one's own work there);
- ``spawn``: this module run as a program (``python -m tbcourse.grading.worker``), kept warm for a whole
  grade, the arguments sent to it pickled (Windows and macOS, which have no safe fork);
- ``bwrap``: the same program inside bubblewrap (``tbcourse.grading.boundary``): no network, no view of
  the course, the other students or the checks, and a PID namespace of its own (``make grade``).

As a program it forks a child for each call where it can, so every call starts from the freshly
imported lesson and a call's processes die with it (inside bubblewrap's PID namespace, every process
but the worker is killed after each call); where it cannot fork, it runs the call itself. Inside
bubblewrap the worker is the namespace's first process and cannot be traced, signalled or read through
/proc by the calls it forks (they share its user), so a call can neither reach the channel nor live on
in the worker; and it takes no reply larger than the memory a call may use. Requests
arrive on its standard input, replies leave on the standard output it had at start, and the student's
prints go to standard error. It trusts nothing it is sent beyond the checks' own pickles, and the
checks trust nothing it replies beyond what ``wire.decode`` rebuilds.
"""
import importlib
import importlib.util
import os
import pickle
import signal
import struct
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.tensorboard import SummaryWriter

from tbcourse.grading import wire
from tbcourse.settings import GRADED_TESTS, Settings

FRAME = struct.Struct("<Q")
READY = b"ready"
PR_SET_DUMPABLE = 4  # prctl(2)


class FrameTooLarge(ValueError):
    """A frame that says it is longer than its reader takes."""


@dataclass(frozen=True)
class WriterSpec:
    """A SummaryWriter argument as it travels to a worker: the folder its stand-in writes to."""
    log_dir: str


@dataclass(frozen=True)
class Request:
    path: str
    function: str | None
    args: tuple
    kwargs: dict
    memory_mb: int


def _parameter(data, requires_grad, grad):
    param = torch.nn.Parameter(data, requires_grad=requires_grad)
    param.grad = grad
    return param


def _tensor(data, requires_grad, grad):
    tensor = data.requires_grad_(requires_grad)
    tensor.grad = grad
    return tensor


class RequestPickler(pickle.Pickler):
    """Pickles a call for a worker: gradients kept, SummaryWriters sent as the folder their stand-in uses."""

    def __init__(self, file, writer_dirs: dict[int, str]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.writer_dirs = writer_dirs

    def reducer_override(self, obj):
        if isinstance(obj, SummaryWriter):
            return WriterSpec, (self.writer_dirs.get(id(obj), obj.log_dir),)
        if isinstance(obj, torch.Tensor) and obj.grad is not None:
            rebuild = _parameter if isinstance(obj, torch.nn.Parameter) else _tensor
            return rebuild, (obj.detach(), obj.requires_grad, obj.grad)
        return NotImplemented


def write_frame(fd: int, data: bytes) -> None:
    view = memoryview(FRAME.pack(len(data)) + data)
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


def known_objects(args, kwargs) -> dict[int, wire.Ref]:
    """The objects of the arguments that a reply may name instead of copying: each module, parameter and
    tensor argument, and the submodules and parameters of module arguments."""
    known = {}
    for key, value in [*enumerate(args), *kwargs.items()]:
        if isinstance(value, torch.nn.Module):
            known.update({id(m): wire.Ref(key, "module", name) for name, m in value.named_modules()})
            known.update({id(p): wire.Ref(key, "parameter", name) for name, p in value.named_parameters()})
        elif isinstance(value, torch.Tensor):
            known[id(value)] = wire.Ref(key, "argument", "")
    return known


def run_call(path: Path, function: str | None, args: tuple, kwargs: dict, memory_mb: int,
             hard_limit: bool = True) -> bytes:
    """The encoded reply of one call: ("returned", the value encoded, {argument: tensor after the call}
    encoded), ("raised", type name, message, where) or ("failed", message). ``function`` None only imports."""
    try:
        reply = _call(path, function, args, kwargs, memory_mb, hard_limit)
        if reply[0] == "returned":  # the value may name the arguments; the tensors changed in place travel whole
            _, value, changed = reply
            reply = ("returned", wire.encode(value, known_objects(args, kwargs)), wire.encode(changed))
        return wire.encode(reply)
    except wire.WireError as err:
        return wire.encode(("failed", f"{function}() returned something that cannot be checked ({err}); return "
                                      "plain data (tensors, arrays, numbers, strings, lists, tuples, dicts)"))
    except BaseException as err:  # noqa: BLE001 - whatever happened, the checks get one line
        return wire.encode(("failed", f"the call could not be run ({type(err).__name__}: {err})"))


def _call(path, function, args, kwargs, memory_mb, hard_limit):
    _limit_memory(memory_mb, hard_limit)
    spec = importlib.util.spec_from_file_location(f"student_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        return ("failed", f"{path.name} does not compile: line {err.lineno}: {err.msg}")
    except BaseException as err:  # noqa: BLE001 - SystemExit too: an import must not end the grade
        return ("failed", f"importing {path.name} raised {type(err).__name__}: {err}")
    if function is None:
        return ("returned", None, {})
    target = getattr(module, function, None)
    if not callable(target):
        return ("failed", f"{path.name} has no function {function}(); keep the syllabus's name and signature")
    writers = {}
    args = tuple(_own_writer(a, writers) for a in args)
    kwargs = {k: _own_writer(v, writers) for k, v in kwargs.items()}
    hooks = _hook_count(args, kwargs)
    try:
        result = target(*args, **kwargs)
    except BaseException as err:  # noqa: BLE001
        return ("raised", type(err).__name__, str(err), _where(err, path))
    finally:
        closed = any(w.file_writer is None for w in writers.values())
        for w in writers.values():
            w.close()
    if closed:
        return ("failed", f"{function}() closed the SummaryWriter it was given: the caller owns it, so "
                          "log with it and leave it open")
    if _hook_count(args, kwargs) > hooks:
        return ("failed", f"{function}() left hooks on the model it was given: keep each handle that "
                          "register_forward_hook returns and call .remove() when done")
    changed = {key: value for key, value in [*enumerate(args), *kwargs.items()] if isinstance(value, torch.Tensor)}
    return ("returned", result, changed)


def _own_writer(value, writers):
    if isinstance(value, (SummaryWriter, WriterSpec)):
        return writers.setdefault(id(value), SummaryWriter(log_dir=str(value.log_dir)))
    return value


def _hook_count(args, kwargs) -> int:
    modules = [m for v in [*args, *kwargs.values()] if isinstance(v, torch.nn.Module) for m in v.modules()]
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in modules)


def _where(err, path):
    frames = [f for f in traceback.extract_tb(err.__traceback__) if Path(f.filename) == path]
    return f" (raised at {path.name}:{frames[-1].lineno})" if frames else ""


def _limit_memory(memory_mb: int, hard: bool) -> None:
    """Address space: what the process has now plus ``memory_mb``. Hard where the call runs in a process of
    its own (it can never raise it again), soft where the worker runs calls itself. Where the platform
    has no such limit (Windows), only the time limit holds."""
    try:
        import resource
    except ImportError:
        return
    limit = _address_space() + memory_mb * 2**20
    _, hard_now = resource.getrlimit(resource.RLIMIT_AS)
    if hard_now != resource.RLIM_INFINITY:
        limit = min(limit, hard_now)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit if hard else hard_now))
    except (ValueError, OSError):  # macOS refuses RLIMIT_AS below what is mapped
        pass


def _address_space() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def serve(requests: int, replies: int, own_pid_namespace: bool) -> None:
    """Answer requests until the checks close the channel."""
    can_fork = hasattr(os, "fork") and Settings.from_env().method != "spawn"
    if can_fork:
        torch.set_num_threads(1)  # a forked child cannot use the parent's OpenMP pool
    while (frame := read_frame(requests)) is not None:
        request = pickle.loads(frame)  # the checks' own pickle
        path = Path(request.path)
        if not can_fork:
            write_frame(replies, run_call(path, request.function, request.args, request.kwargs, request.memory_mb,
                                          hard_limit=False))
            continue
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the call's own process
            os.close(reader)
            os.close(requests)
            os.close(replies)
            try:
                write_frame(writer, run_call(path, request.function, request.args, request.kwargs, request.memory_mb))
            finally:
                os._exit(0)
        os.close(writer)
        try:  # a reply the call could not have built within its memory is not read, let alone held
            reply = read_frame(reader, limit=request.memory_mb * 2**20)
        except FrameTooLarge:
            reply = wire.encode(("raised", "MemoryError", f"its reply is larger than {request.memory_mb} MB", ""))
        finally:
            os.close(reader)
        if own_pid_namespace:  # every process the call started, wherever it went: this namespace is the call's
            os.kill(-1, signal.SIGKILL)
        _reap_all(pid)
        if reply is None:
            reply = wire.encode(("died", "its process ended without a reply"))
        write_frame(replies, reply)


def _reap_all(pid):
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    own_pid_namespace = "--pid-namespace" in argv
    if own_pid_namespace:
        if os.getpid() != 1:
            sys.exit("worker: --pid-namespace given, but this process is not the first of a PID namespace")
        _untouchable()
    # The channel keeps the descriptors the worker started with; the student's prints go to stderr.
    requests, replies = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.path.insert(0, str(GRADED_TESTS))  # the classes the graded tests hand to student code (helpers.py)
    preload([name for arg in argv if arg.startswith("--preload=") for name in arg.split("=", 1)[1].split(",")])
    write_frame(replies, READY)  # the checks start timing calls from here, not from the imports above
    serve(requests, replies, own_pid_namespace)


def _untouchable() -> None:
    """Make this process, the first of its PID namespace, one that the calls it forks (which run as the same
    user) cannot trace or read through /proc (its memory, its descriptors, its environment), nor signal: the
    first process of a namespace gets from inside it only the signals it handles, and it handles none."""
    import ctypes

    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        sys.exit(f"worker: prctl(PR_SET_DUMPABLE) failed: {os.strerror(ctypes.get_errno())}")
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Python's KeyboardInterrupt handler


def preload(names) -> None:
    """Import what the lessons import, once, so that no call pays for it."""
    for name in filter(None, names):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - ``from package import name`` where the name is no module, or worse
            pass


if __name__ == "__main__":  # run the module's own copy, so that the classes the checks pickle are these
    from tbcourse.grading import worker

    worker.main()
