"""A call as it travels from the checks to a worker: the checks' own pickle of a ``Request``, with tensors'
storages out of band (or, when large, as the path of a held file) and SummaryWriters as the folder their
stand-in writes to. Only the worker unpickles it; a keeper reads its JSON head alone."""
import io
import pickle
from dataclasses import dataclass, field, replace

import torch
from torch.utils.hooks import RemovableHandle
from torch.utils.tensorboard import SummaryWriter

from tbcourse.runner.holding import HOLD_BYTES, Holding, plain
from tbcourse.runner.showing import Shown


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
    tensors and parameters as out-of-band buffers (``framing.send_request``), or, when large and a ``Holding``
    is given, as the path of their file; each storage once, so tensors that shared one still share it;
    gradients kept. With a ``Shown``, a held file goes as the path of its shown copy."""

    def __init__(self, file, writer_dirs: dict[int, str], buffers: list, holding: Holding | None = None,
                 shown: Shown | None = None):
        super().__init__(file, protocol=5, buffer_callback=buffers.append)
        self.writer_dirs, self.holding, self.shown = writer_dirs, holding, shown
        self.storages, self.used = {}, set()

    def persistent_id(self, obj):
        return obj.held if isinstance(obj, _Storage) else None

    def reducer_override(self, obj):
        if isinstance(obj, SummaryWriter):
            return WriterSpec, (self.writer_dirs.get(id(obj), obj.log_dir),)
        if plain(obj):
            storage = obj.untyped_storage()
            key = (storage.data_ptr(), storage.nbytes())
            if key not in self.storages:  # one object per storage: the pickle's memo shares it
                held = None
                if self.holding is not None and key[1] >= HOLD_BYTES and not obj.is_inference():
                    held = self.holding.path_of(key, storage, obj, self.used)
                    held = self.shown.path(held) if self.shown else held
                self.storages[key] = _Storage(storage, held)
            return _rebuild_tensor, (self.storages[key], obj.dtype, tuple(obj.size()), obj.stride(),
                                     obj.storage_offset(), obj.requires_grad, obj.grad, type(obj) is torch.nn.Parameter)
        return NotImplemented  # anything else, as torch pickles it


def encode_request(request: Request, writer_dirs: dict[int, str], holding: Holding | None = None,
                   shown: Shown | None = None):
    """A call's head (its lesson and memory, for ``keep_lessons``), its pickle and its out-of-band buffers, for
    ``framing.send_request``. With ``shown`` (a boundary), what the call is handed of the checks' folder, a path
    in its arguments or a held file, goes as its shown copy."""
    if holding is not None:
        holding.settle()
    if shown is not None:
        request = replace(request, args=shown.values(request.args), kwargs=shown.values(request.kwargs))
    buffers, out = [], io.BytesIO()
    RequestPickler(out, writer_dirs, buffers, holding, shown).dump(request)
    if shown is not None:
        shown.opened()
    return {"path": request.path, "memory_mb": request.memory_mb}, out.getvalue(), buffers
