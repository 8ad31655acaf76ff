"""Run one call of student code in a forked child, and take back only plain data.

The graded tests check in the parent process; the student's module is imported and called only in
a child forked for that call. Whatever the student's code does there — patch torch or numpy, call
``os._exit``, loop forever, exhaust memory — it cannot touch the checks, and it costs that call only.

- Arguments are inherited through the fork (models keep their gradients). A ``SummaryWriter``
  argument is replaced in the child by a new writer on the same log folder, flushed after the call.
- Tensor arguments that the call changed in place (the notes' ``transpose_``) are changed the same
  way in the parent afterwards, so a test can see it.
- The result comes back pickled and is unpickled with an allow-list (builtins, numpy, torch), so an
  object of the student's own class — one that claims to equal anything — cannot come back. A module,
  parameter or tensor that came in as (part of) an argument comes back as the parent's own object.
- The course's contract holds for every call: a ``SummaryWriter`` it was given is not closed, and no
  hook is left on a model it was given.
- Limits (``tbcourse.settings.Settings``): ``call_seconds`` per call, ``call_memory_mb`` of address space
  beyond what the child starts with.
"""
import ast
import builtins
import importlib.util
import io
import multiprocessing
import os
import pickle
import resource
import signal
import traceback
from pathlib import Path

import pytest
import torch
from torch.utils.tensorboard import SummaryWriter

from tbcourse.settings import ENV, LESSONS, SOLUTIONS, Settings, lesson_names

TIMED_OUT = "ran past the time limit"


def lesson_imports(folders=(SOLUTIONS, LESSONS)) -> list[str]:
    """Every module that a lesson imports, anywhere in its file (the course's own code left out)."""
    found = set()
    for folder in folders:
        for name in lesson_names(folder):
            for node in ast.walk(ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found.add(node.module)
                    found.update(f"{node.module}.{alias.name}" for alias in node.names)  # maybe a submodule
    return sorted(name for name in found if name.split(".")[0] != "tbcourse")


# Imported here, once, so that a forked child finds them loaded instead of importing them on every call.
for _name in lesson_imports():
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError:  # ``from package import name`` where the name is not a module
        pass
SAFE_BUILTINS = {"set", "frozenset", "slice", "complex", "range", "bytearray", "getattr"}
SAFE_PREFIXES = ("torch.", "numpy.", "collections.OrderedDict")


class StudentError(Exception):
    """An exception raised by student code that is not one of Python's own types."""


class ArgumentPickler(pickle.Pickler):
    """Pickles the arguments' own modules, parameters and tensors as references to them."""

    def __init__(self, file, args, kwargs):
        super().__init__(file)
        self.known = {}
        for key, value in [*enumerate(args), *kwargs.items()]:
            if isinstance(value, torch.nn.Module):
                self.known.update({id(m): (key, "module", name) for name, m in value.named_modules()})
                self.known.update({id(p): (key, "parameter", name) for name, p in value.named_parameters()})
            elif isinstance(value, torch.Tensor):
                self.known[id(value)] = (key, "argument", "")

    def persistent_id(self, obj):
        return self.known.get(id(obj))


class PlainDataUnpickler(pickle.Unpickler):
    def __init__(self, file, args=(), kwargs=None):
        super().__init__(file)
        self.args, self.kwargs = args, kwargs or {}

    def persistent_load(self, pid):
        key, kind, name = pid
        value = self.args[key] if isinstance(key, int) else self.kwargs[key]
        if not name:
            return value
        return value.get_submodule(name) if kind == "module" else value.get_parameter(name)

    def find_class(self, module, name):
        if (module == "builtins" and name in SAFE_BUILTINS) or f"{module}.{name}".startswith(SAFE_PREFIXES) \
                or module in ("torch", "numpy"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name}")


def import_problem(path: Path) -> str | None:
    """Why the lesson file ``path`` cannot even be imported, or None."""
    try:
        call(path, None, (), {})
    except pytest.fail.Exception as err:
        return err.msg
    return None


def call(path: Path, function: str | None, args: tuple, kwargs: dict):
    """``function(*args, **kwargs)`` from the lesson file ``path``, run in a child process.

    With ``function`` None the child only imports the file."""
    seconds = Settings.from_env().call_seconds
    reader, writer = multiprocessing.Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # the child: never returns
        reader.close()
        try:
            reply = _run_in_child(path, function, args, kwargs)
        except BaseException as err:  # noqa: BLE001 - the child reports everything, then ends
            reply = ("crash", f"{type(err).__name__}: {err}")
        try:
            writer.send_bytes(pickle.dumps(reply))
        finally:
            os._exit(0)
    writer.close()
    try:
        if not reader.poll(seconds):
            os.kill(pid, signal.SIGKILL)
            raise _fail(f"{TIMED_OUT} ({seconds:.0f}s) {_doing(path, function)}: an endless loop, or far too slow?")
        try:
            payload = reader.recv_bytes()
        except EOFError:
            raise _fail(f"{_doing(path, function)} ended the process ({_status(pid)}): does it call os._exit "
                        "or sys.exit, crash, or use too much memory?") from None
    finally:
        reader.close()
        _reap(pid)
    return _unpack(payload, function, args, kwargs)


def _run_in_child(path, function, args, kwargs):
    torch.set_num_threads(1)  # the parent's OpenMP pool does not survive fork; one thread is safe
    os.environ.pop(ENV["record"], None)  # the grader's record of verdicts is none of the child's business
    extra = _memory_mb() * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + extra, resource.RLIM_INFINITY))
    spec = importlib.util.spec_from_file_location(f"student_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        return ("failed", f"{path.name} does not compile: line {err.lineno}: {err.msg}")
    except BaseException as err:  # noqa: BLE001 - SystemExit too: an import must not end the grade
        return ("failed", f"importing {path.name} raised {type(err).__name__}: {err}")
    if function is None:
        return ("returned", pickle.dumps(None), {})
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
    changed = {i: a for i, a in enumerate(args) if isinstance(a, torch.Tensor)}
    changed.update({k: v for k, v in kwargs.items() if isinstance(v, torch.Tensor)})
    try:
        buffer = io.BytesIO()
        ArgumentPickler(buffer, args, kwargs).dump(result)
        return ("returned", buffer.getvalue(), changed)
    except Exception as err:  # noqa: BLE001
        return ("failed", f"{function}() returned something that cannot be checked ({type(result).__name__}: "
                          f"{err}); return plain data (tensors, arrays, numbers, lists, dicts)")


def _hook_count(args, kwargs) -> int:
    modules = [m for v in [*args, *kwargs.values()] if isinstance(v, torch.nn.Module) for m in v.modules()]
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in modules)


def _own_writer(value, writers):
    if isinstance(value, SummaryWriter):
        return writers.setdefault(id(value), SummaryWriter(log_dir=value.log_dir))
    return value


def _unpack(payload, function, args, kwargs):
    reply = _load(payload, function)
    kind = reply[0]
    if kind in ("failed", "crash"):
        raise _fail(reply[1])
    if kind == "raised":
        _, name, message, where = reply
        if name == "MemoryError":
            message = f"the call needed more memory than the grader allows ({_memory_mb()} MB)"
        error = getattr(builtins, name, None)
        if isinstance(error, type) and issubclass(error, Exception) and name not in ("AssertionError", "MemoryError"):
            raise error(f"{message}{where}")
        raise StudentError(f"{name}: {message}{where}")
    _, result, after = reply
    for key, new in after.items():
        old = args[key] if isinstance(key, int) else kwargs[key]
        if old.shape != new.shape or old.stride() != new.stride() or not torch.equal(old, new):
            old.data = new
    return _load(result, function, args, kwargs)


def _load(payload, function, args=(), kwargs=None):
    try:
        return PlainDataUnpickler(io.BytesIO(payload), args, kwargs).load()
    except pickle.UnpicklingError as err:
        raise _fail(f"{function}() returned an object of type {err}; return plain data "
                    "(tensors, arrays, numbers, lists, dicts) as the syllabus says") from None


def _doing(path, function):
    return f"in {function}()" if function else f"importing {path.name}"


def _where(err, path):
    frames = [f for f in traceback.extract_tb(err.__traceback__) if Path(f.filename) == path]
    return f" (raised at {path.name}:{frames[-1].lineno})" if frames else ""


def _memory_mb() -> int:
    return Settings.from_env().call_memory_mb


def _address_space() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _status(pid) -> str:
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return f"killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.WEXITSTATUS(status)}"


def _reap(pid):
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _fail(message):
    return pytest.fail.Exception(message, pytrace=False)
