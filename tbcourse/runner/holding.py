"""Large storages handed to workers as files, written once and mapped copy-on-write by each call."""
import contextlib
import itertools
import mmap
import os
from dataclasses import dataclass
from pathlib import Path

import torch

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
    """The checks' files of large storages (storage address and size -> ``Held``), in a folder of their own (a
    boundary's worker is shown the files of the current call: ``showing``). A worker maps a file copy-on-write
    for each call that uses it (``map_held``), so no call can change it for the next, and a model handed to many
    calls is written once, not piped to each: AlexNet's 244 MB takes ~0.4 s through a pipe, and a copy of it for
    each call ~80 ms. A file is written again when its tensor changed in place, which torch counts: a test that
    changes a tensor it handed to student code does so in place or makes a new one, never through ``.data``."""

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
            self.entries[key] = entry = Held(self._write(storage), tensor, tensor._version, storage)
        used.add(key)
        for old in [k for k in self.entries if k not in used]:
            if sum(size for _, size in self.entries) <= HOLD_AT_MOST:
                break
            self.doomed.append(self.entries.pop(old).path)
        return entry.path

    def _write(self, storage: torch.UntypedStorage) -> str:
        self.folder.mkdir(exist_ok=True)
        os.chmod(self.folder, 0o700)  # the checks' alone: a call is shown the files it is handed (``showing``)
        path = self.folder / f"storage{next(_names)}"
        with open(path, "xb") as out:
            out.write(torch.empty(0, dtype=torch.uint8).set_(storage).numpy())
        os.chmod(path, 0o444)  # a worker under another uid reads it through the link it is shown
        return str(path)

    def adopt(self, module: torch.nn.Module) -> None:
        """Write the large storages of ``module``'s parameters and buffers to files now, and give the module those
        files as its storages, mapped copy-on-write as each call maps them: the checks and the workers then read
        the same pages of memory, and a model that every call is handed (AlexNet's 244 MB) is in memory once, not
        once in the checks and once in the worker. A change the checks make is their own, as before, and
        written to a new file for the next call. POSIX only: Windows cannot delete a file while it is mapped."""
        if os.name == "nt":
            return
        groups: dict[tuple[int, int], list[torch.Tensor]] = {}
        for tensor in [*module.parameters(), *module.buffers()]:
            storage = tensor.untyped_storage()
            key = (storage.data_ptr(), storage.nbytes())
            if plain(tensor) and key[1] >= HOLD_BYTES and key not in self.entries:
                groups.setdefault(key, []).append(tensor)
        for group in groups.values():
            path = self._write(group[0].untyped_storage())
            mapped = map_held(path)
            for tensor in group:
                tensor.data = torch.empty(0, dtype=tensor.dtype).set_(mapped, tensor.storage_offset(), tensor.size(),
                                                                       tensor.stride())
            self.entries[(mapped.data_ptr(), mapped.nbytes())] = Held(path, group[0], group[0]._version, mapped)

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


def plain(tensor) -> bool:
    """A dense tensor or parameter in CPU memory with no attributes of its own: one whose storage can be held and
    whose tensor a worker makes again from it (``request._rebuild_tensor``)."""
    return (type(tensor) in (torch.Tensor, torch.nn.Parameter) and tensor.layout == torch.strided
            and tensor.device.type == "cpu" and not tensor.is_quantized and not tensor.__dict__)


def map_held(path: str) -> torch.UntypedStorage:
    """A storage of the checks' file ``path``, mapped copy-on-write: what the call changes stays its own."""
    with open(path, "rb") as file:
        mapping = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_COPY)
    return torch.frombuffer(mapping, dtype=torch.uint8).untyped_storage()  # keeps the mapping alive
