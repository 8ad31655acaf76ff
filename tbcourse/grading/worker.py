"""The one process that runs student code: a call comes in, plain data goes out (``tbcourse.grading.wire``).

``run_call`` is a call of student code: it limits its own memory, imports the lesson file, swaps each
SummaryWriter argument for its own writer on the folder it is told, calls the function, checks the
course's contract (the writer left open, no hook left on a model) and encodes the reply. The worker is
this module run as a program (``python -m tbcourse.grading.worker``), or ``serve_forked`` in a process of
multiprocessing's forkserver; the checks (``tbcourse.grading.sandbox``) pickle its requests and start it
(``tbcourse.grading.channel``) as the ``start_method`` setting says:

- ``fork``: one per lesson, running its calls itself, forked from multiprocessing's forkserver, which
  imported the lessons' libraries as the grade started (``serve_forked``; Linux, the default for checking
  one's own work there);
- ``spawn``: the same, started afresh for each lesson (Windows and macOS, which have no safe fork);
- ``bwrap``: inside bubblewrap (``tbcourse.grading.boundary``): no network, no view of the course, the other
  students or the checks, and a PID namespace of its own (``make grade``). Its first process, the keeper,
  runs no student code: it forks a lesson worker per lesson that runs the lesson's calls itself, and after
  each call replaces it, killing everything else in the namespace, unless it is alone there with a single
  thread (``keep_lessons``);
- ``unprivileged``: as the user nobody (``tbcourse.grading.unprivileged``), forking a child per call, which
  has a hard memory limit of its own.

Inside bubblewrap the keeper is the namespace's first process and cannot be traced, signalled or read
through /proc by the lesson workers it forks (they share its user), so student code can neither reach the
channel nor outlive its call; and it takes no reply larger than the memory a call may use. As a program,
requests arrive on its standard input, replies leave on the standard output it had at start, and the
student's prints go to standard error; forked, both travel on pipes of their own. It trusts nothing it is
sent beyond the checks' own pickles, and the checks trust nothing it replies beyond what ``wire.decode``
rebuilds.
"""
import contextlib
import gc
import importlib
import importlib.util
import io
import itertools
import mmap
import os
import pickle
import signal
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.hooks import RemovableHandle
from torch.utils.tensorboard import SummaryWriter

from tbcourse.grading import wire
from tbcourse.grading.channel import (READY, FrameTooLarge, forward_request, read_frame, read_request, receive_request,
                                      request_head, write_frame)
from tbcourse.settings import ENV, GRADED_TESTS, Settings

PR_SET_DUMPABLE = 4  # prctl(2)


@dataclass(frozen=True)
class WriterSpec:
    """A SummaryWriter argument as it travels to a worker: the folder its stand-in writes to."""
    log_dir: str


@dataclass(frozen=True)
class Request:
    """A call for the worker. ``next_hook_id``: the id torch gives the next hook registered in the checks, so
    that a hook student code registers never takes the id of one the checks put on a model (``hook_ids_from``)."""
    path: str
    function: str | None
    args: tuple
    kwargs: dict
    memory_mb: int
    next_hook_id: int = field(default_factory=lambda: RemovableHandle.next_id)


def hook_ids_from(request: Request) -> None:
    """Torch keys a module's hooks by a counter of its process: in a worker that did not fork from the checks,
    a hook the student registers could take the key of a hook the checks registered, replace it, and remove it
    with its own (a spy on the model would see no run)."""
    RemovableHandle.next_id = max(RemovableHandle.next_id, request.next_hook_id)


HOLD_BYTES = 2**20  # a storage this large goes to workers as a file, written once while it is unchanged
HOLD_AT_MOST = 2**28  # bytes of such files kept (one AlexNet): the least recently used are deleted beyond


@dataclass(frozen=True)
class Held:
    """A storage written to a file for workers, as the checks remember it: the file, the tensor it was written
    from, that tensor's in-place version then, and the storage itself (kept alive, so that no other storage
    can take its address, even when the tensor is given another storage through ``.data``)."""
    path: str
    tensor: torch.Tensor
    version: int
    storage: torch.UntypedStorage  # kept alive: its address is no other storage's while this is remembered


_names = itertools.count(1)  # of the files, unique in the process


class Holding:
    """The checks' files of large storages (storage address and size -> ``Held``), in a folder that workers
    can read. A worker maps a file copy-on-write for each call that uses it (``map_held``), so no call can
    change it for the next, and a model handed to many calls is written once, not piped to each: AlexNet's
    244 MB takes ~0.4 s through a pipe, and a copy of it for each call ~80 ms. A file is written again when
    its tensor changed in place, which torch counts: a test that changes a tensor it handed to student code
    does so in place or makes a new one, never through ``.data``."""

    def __init__(self, folder: Path):
        self.folder, self.entries, self.doomed = folder, {}, []

    def path_of(self, key: tuple[int, int], storage: torch.UntypedStorage, tensor: torch.Tensor, used: set) -> str:
        """The file that holds ``storage`` as it is now, written if need be. Files past HOLD_AT_MOST are deleted
        at the next request (``settle``), never one that this request (``used``) names."""
        entry = self.entries.pop(key, None)
        if entry and entry.tensor is tensor and entry.version == tensor._version:
            self.entries[key] = entry  # the most recently used last
        else:
            if entry:
                self.doomed.append(entry.path)
            self.folder.mkdir(exist_ok=True)
            os.chmod(self.folder, 0o755)
            path = self.folder / f"storage{next(_names)}"
            with open(path, "xb") as out:
                out.write(torch.empty(0, dtype=torch.uint8).set_(storage).numpy())
            os.chmod(path, 0o444)  # a worker under another user (unprivileged) reads it
            self.entries[key] = entry = Held(str(path), tensor, tensor._version, storage)
        used.add(key)
        for old in [k for k in self.entries if k not in used]:
            if sum(size for _, size in self.entries) <= HOLD_AT_MOST:
                break
            self.doomed.append(self.entries.pop(old).path)
        return entry.path

    def settle(self) -> None:
        """Delete the files given up since the last request: the worker that read them is done with that call."""
        for path in self.doomed:
            with contextlib.suppress(OSError):  # Windows keeps a file that a worker still maps
                os.remove(path)
        self.doomed = []

    def close(self) -> None:
        """Delete every file: the grading session that needed them is over."""
        self.doomed += [entry.path for entry in self.entries.values()]
        self.entries = {}
        self.settle()


def map_held(path: str) -> torch.UntypedStorage:
    """A storage of the checks' file ``path``, mapped copy-on-write: what the call changes stays its own."""
    with open(path, "rb") as file:
        mapping = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_COPY)
    return torch.frombuffer(mapping, dtype=torch.uint8).untyped_storage()  # keeps the mapping alive


class _Storage:
    """A tensor's storage as it travels to a worker: its bytes go out of band, straight from its memory to the
    channel, instead of through ``torch.save`` (torch's own pickling, which takes ~1 s for AlexNet's 244 MB);
    or, when it is large, the path of the file that holds it (``Holding``)."""

    def __init__(self, storage: torch.UntypedStorage, held: str | None = None):
        self.storage, self.held = storage, held

    def __reduce__(self):
        raw = torch.empty(0, dtype=torch.uint8).set_(self.storage).numpy()
        return _rebuild_storage, (pickle.PickleBuffer(raw),)


def _rebuild_storage(buffer) -> torch.UntypedStorage:
    if not len(buffer):
        return torch.UntypedStorage(0)
    return torch.frombuffer(buffer, dtype=torch.uint8).untyped_storage()  # shares the buffer: no copy


def _rebuild_tensor(storage, dtype, size, stride, offset, requires_grad, grad, parameter):
    tensor = torch.empty(0, dtype=dtype).set_(storage, offset, size, stride)
    tensor = torch.nn.Parameter(tensor, requires_grad) if parameter else tensor.requires_grad_(requires_grad)
    tensor.grad = grad
    return tensor


class RequestPickler(pickle.Pickler):
    """Pickles a call for a worker: SummaryWriters sent as the folder their stand-in uses; the storages of
    tensors and parameters as out-of-band buffers (``channel.send_request``), or, when large and a ``Holding``
    is given, as the path of their file; each storage once, so tensors that shared one still share it;
    gradients kept."""

    def __init__(self, file, writer_dirs: dict[int, str], buffers: list, holding: Holding | None = None):
        super().__init__(file, protocol=5, buffer_callback=buffers.append)
        self.writer_dirs, self.holding = writer_dirs, holding
        self.storages, self.used = {}, set()

    def persistent_id(self, obj):
        return obj.held if isinstance(obj, _Storage) else None

    def reducer_override(self, obj):
        if isinstance(obj, SummaryWriter):
            return WriterSpec, (self.writer_dirs.get(id(obj), obj.log_dir),)
        if type(obj) in (torch.Tensor, torch.nn.Parameter) and _plain(obj):
            storage = obj.untyped_storage()
            key = (storage.data_ptr(), storage.nbytes())
            if key not in self.storages:  # one object per storage: the pickle's memo shares it
                held = None
                if self.holding is not None and key[1] >= HOLD_BYTES and not obj.is_inference():
                    held = self.holding.path_of(key, storage, obj, self.used)
                self.storages[key] = _Storage(storage, held)
            return _rebuild_tensor, (self.storages[key], obj.dtype, tuple(obj.size()), obj.stride(),
                                     obj.storage_offset(), obj.requires_grad, obj.grad, type(obj) is torch.nn.Parameter)
        return NotImplemented  # anything else, as torch pickles it


def _plain(tensor) -> bool:
    """A dense tensor in CPU memory with no attributes of its own: what ``_rebuild_tensor`` makes again."""
    return (tensor.layout == torch.strided and tensor.device.type == "cpu" and not tensor.is_quantized
            and not tensor.__dict__)


def encode_request(request: Request, writer_dirs: dict[int, str], holding: Holding | None = None):
    """A call's head (its lesson and memory, for ``keep_lessons``), its pickle and its out-of-band buffers, for
    ``channel.send_request``."""
    if holding is not None:
        holding.settle()
    buffers, out = [], io.BytesIO()
    RequestPickler(out, writer_dirs, buffers, holding).dump(request)
    return {"path": request.path, "memory_mb": request.memory_mb}, out.getvalue(), buffers


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
            reply = _too_large(request.memory_mb)
        finally:
            os.close(reader)
        _reap_all(pid)
        write_frame(replies, reply or DIED)


DIED = wire.encode(("died", "its process ended without a reply"))
FILE_BYTES = 2**28  # the largest file student code inside bubblewrap may write (an event file: at most this)


def _too_large(memory_mb: int) -> bytes:
    return wire.encode(("raised", "MemoryError", f"its reply is larger than {memory_mb} MB", ""))


def keep_lessons(requests: int, replies: int) -> None:
    """bwrap: the first process of the worker's PID namespace keeps the channel and the imported libraries,
    and runs no student code. For each lesson it forks a lesson worker, which runs that lesson's calls itself
    (``serve``) on pipes of its own, with a hard memory limit set before any student code runs. After each
    call, unless the lesson worker is alone in the namespace with a single thread, every process but this
    one is killed (``os.kill(-1)``, which nothing escapes, in descendant namespaces too) and the next call
    gets a new lesson worker: nothing a call starts outlives it, and the check is made by a process that
    student code can neither signal, trace nor patch (``_untouchable``)."""
    torch.set_num_threads(1)  # a forked child cannot use the parent's OpenMP pool
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))  # for every process it forks
    lesson = None
    while (raw := read_request(requests)) is not None:
        head = request_head(raw)  # which lesson, and its memory: the keeper unpickles nothing
        memory_mb = head["memory_mb"]
        if lesson is not None and lesson.path != head["path"]:
            lesson = lesson.end()
        if lesson is None:
            lesson = _Lesson(head["path"], memory_mb, (requests, replies))
        try:
            os.kill(lesson.pid, signal.SIGCONT)  # stopped since its last call (a new one: not yet, no matter)
            forward_request(lesson.requests, raw)
            reply = read_frame(lesson.replies, limit=memory_mb * 2**20)
            sound = reply is not None and lesson.stopped() and lesson.alone()
        except FrameTooLarge:  # not read, let alone held: what follows it on the pipe is no reply either
            reply, sound = _too_large(memory_mb), False
        except OSError:  # its pipe broke: it died
            reply, sound = None, False
        if not sound:
            lesson = lesson.end()
        write_frame(replies, reply or DIED)


class _Lesson:
    """A lesson worker of ``keep_lessons``: a child that runs one lesson's calls, and its two pipes."""
    ROOM = HOLD_AT_MOST // 2**20 + 128  # MB beyond a call's own: the files it maps, and the heap's growth

    def __init__(self, path: str, memory_mb: int, channel: tuple[int, int]):
        self.path = path
        requests, self.requests = os.pipe()
        self.replies, replies = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                for fd in (*channel, self.requests, self.replies):
                    os.close(fd)
                _limit_memory(memory_mb + self.ROOM, hard=True)  # each call then sets its own below this
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
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:  # nothing left to kill: the lesson worker ended, and ``stopped`` reaped it
            pass
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
        os.close(self.requests)
        os.close(self.replies)


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
    gc.disable()  # no collection while importing: a fifth of the time of importing torch goes to it
    preload([name for arg in argv if arg.startswith("--preload=") for name in arg.split("=", 1)[1].split(",")])
    gc.freeze()  # what is imported now stays out of the collections of forked calls, which would copy its pages
    gc.enable()
    scratch = Settings.from_env().scratch
    if scratch:  # a boundary's worker starts where student code cannot write (SAFE_PATH), and works here
        os.chdir(scratch)
    write_frame(replies, READY)  # the checks start timing calls from here, not from the imports above
    if own_pid_namespace:
        keep_lessons(requests, replies)
    elif hasattr(os, "fork") and Settings.from_env().method != "spawn":
        serve_forking(requests, replies)
    else:
        serve(requests, replies)


def serve_forked(requests: int, replies: int) -> None:
    """The fork start method: a worker for one lesson, forked from multiprocessing's forkserver, which has
    imported the lessons' libraries (``tbcourse.grading.channel``); it runs the lesson's calls itself, in a
    process group of its own, so that closing it ends what they started."""
    os.setsid()
    gc.freeze()  # the forkserver imported with collection off (tbcourse.grading.gc_off)
    gc.enable()
    os.environ.pop(ENV["record"], None)  # the record of verdicts is none of student code's business
    sys.path.insert(0, str(GRADED_TESTS))
    write_frame(replies, READY)
    serve(requests, replies)


def _untouchable() -> None:
    """Make this process, the first of its PID namespace, one that the lesson workers it forks (which run as the
    same user) cannot trace or read through /proc (its memory, its descriptors, its environment), nor signal: the
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
