"""The worker's side of a call of student code: a call comes in, plain data goes out (``tbcourse.runner.wire``).

``run_call`` limits its own memory, imports the lesson file, swaps each SummaryWriter argument for its own
writer on the folder it is told, calls the function, checks the course's contract (the writer left open, no
hook left on a model) and encodes the reply. ``serve`` runs each call of a lesson in its own process (a
lesson worker); ``serve_forking`` forks a child per call, with a hard memory limit of its own (unprivileged).
"""
import importlib.util
import os
import traceback
from pathlib import Path

import torch
from torch.utils.tensorboard import SummaryWriter

from tbcourse.runner import wire
from tbcourse.runner.errors import shortened
from tbcourse.runner.framing import FrameTooLarge, read_frame, receive_request, write_frame
from tbcourse.runner.holding import map_held
from tbcourse.runner.request import WriterSpec, hook_ids_from

DIED = wire.encode(("died", "its process ended without a reply"))


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
        return wire.encode(("failed", shortened(f"the call could not be run ({type(err).__name__}: {err})")))


def _call(path, function, args, kwargs, memory_mb, hard_limit):
    limit_memory(memory_mb, hard_limit)
    spec = importlib.util.spec_from_file_location(f"student_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        return ("failed", f"{path.name} does not compile: line {err.lineno}: {err.msg}")
    except BaseException as err:  # noqa: BLE001 - SystemExit too: an import must not end the grade
        return ("failed", shortened(f"importing {path.name} raised {type(err).__name__}: {err}"))
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
        return ("raised", shortened(type(err).__name__), shortened(str(err)), _where(err, path))
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


def limit_memory(memory_mb: int, hard: bool) -> None:
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


def serve(requests: int, replies: int) -> None:
    """Run each call here until the checks close the channel: a worker for one lesson (fork, spawn, and the
    lesson workers of ``keep_lessons``)."""
    while (request := receive_request(requests, map_held)) is not None:
        hook_ids_from(request)
        write_frame(replies, run_call(Path(request.path), request.function, request.args, request.kwargs,
                                      request.memory_mb, hard_limit=False))


def serve_forking(requests: int, replies: int) -> None:
    """Run each call in a child forked for it, with a hard memory limit of its own (unprivileged)."""
    torch.set_num_threads(1)  # a forked child cannot use the parent's OpenMP pool
    while (request := receive_request(requests, map_held)) is not None:
        hook_ids_from(request)
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the call's own process
            os.close(reader)
            os.close(requests)
            os.close(replies)
            try:
                write_frame(writer, run_call(Path(request.path), request.function, request.args, request.kwargs,
                                             request.memory_mb))
            finally:
                os._exit(0)
        os.close(writer)
        try:  # a reply the call could not have built within its memory is not read, let alone held
            reply = read_frame(reader, limit=request.memory_mb * 2**20)
        except FrameTooLarge:
            reply = too_large(request.memory_mb)
        finally:
            os.close(reader)
        _reap_all(pid)
        write_frame(replies, reply or DIED)


def too_large(memory_mb: int) -> bytes:
    return wire.encode(("raised", "MemoryError", f"its reply is larger than {memory_mb} MB", ""))


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
