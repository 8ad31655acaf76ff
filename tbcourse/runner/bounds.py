"""Bounds over all of a call's processes together, watched from bubblewrap's keeper (``tbcourse.runner.keeper``)
while the call runs: their memory, and the size of the scratch folder. Each process also has limits of its
own (address space, file size: ``call.limit_memory``, ``keeper.FILE_BYTES``) and, where the grader is root,
the uid they run as may have at most ``hostuser.PROCESSES`` processes; but three children of a call could each
hold the call's memory, and files of the maximal size could fill the disk, so the keeper adds up both every
``POLL_SECONDS`` and ends the call (every process but itself) when either is over. Memory is what the
namespace's processes, the keeper included, hold beyond what they held as the call started: their resident
sizes, which cost nothing to read, and only when these grew past the bound their proportional set sizes,
which count a page that forked processes share once (and would slow a call down if read all the time). The
keeper is counted because a page it shares with the lesson worker is split among more processes when the
call forks: without the keeper's share, a fork storm that allocates nothing would look like a hoard."""
import os
import shutil
import stat

from tbcourse.runner import wire

POLL_SECONDS = 0.1
SCRATCH_BYTES = 2**29  # the scratch folder, over all the calls of a grade
SCRATCH_ENTRIES = 100_000  # files and folders in it: more are counted as a full scratch folder


def memory(proportional: bool) -> int:
    """Bytes of memory of every process of the PID namespace: their proportional set sizes (a page that forked
    processes share counts once over all of them: precise, but it walks each process's page tables), or their
    resident sizes (counters: cheap, and never less, nor growing less)."""
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        sources = ((f"/proc/{name}/smaps_rollup", b"Pss:"),) if proportional else ()
        for path, key in (*sources, (f"/proc/{name}/status", b"VmRSS:")):
            try:
                with open(path, "rb") as info:
                    total += next(int(line.split()[1]) for line in info if line.startswith(key)) * 1024
                break
            except (OSError, StopIteration, ValueError, IndexError):
                continue
    return total


def scratch_bytes(folder: str) -> int:
    """Bytes the files under ``folder`` take on disk (no link followed)."""
    total, entries, stack = 0, 0, [folder]
    while stack:
        try:
            with os.scandir(stack.pop()) as found:
                for entry in found:
                    entries += 1
                    if entries > SCRATCH_ENTRIES:
                        return SCRATCH_BYTES + 1
                    info = entry.stat(follow_symlinks=False)
                    if stat.S_ISDIR(info.st_mode):
                        stack.append(entry.path)
                    else:
                        total += info.st_blocks * 512
        except OSError:
            continue
    return total


def empty(folder: str) -> None:
    """Remove what is in the scratch folder (its processes ended): the next call starts with room."""
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            try:
                os.remove(entry.path)
            except OSError:
                pass


class Baseline:
    """The memory the namespace's processes hold as each call of a lesson worker starts, from which ``Watch``
    counts the call's own: (resident, proportional). The proportional set sizes are read again only when the
    resident sizes moved by more than ``DRIFT`` since they were last read, and otherwise taken as the last
    reading moved by as much. Reading a torch process's proportional set size takes about 7 ms, its resident
    size microseconds, and a grade makes about 175 calls: read at each, it cost a class inside bubblewrap a
    tenth of its time."""
    DRIFT = 2**24

    def __init__(self):
        self.resident = self.proportional = None

    def now(self) -> tuple[int, int]:
        resident = memory(proportional=False)
        if self.proportional is None or abs(resident - self.resident) > self.DRIFT:
            self.resident, self.proportional = resident, memory(proportional=True)
        return resident, self.proportional + resident - self.resident


class Watch:
    """One call's bounds: ``over()`` says, as a reply, which bound the call passed, or None. ``baseline``: the
    memory of the namespace's processes as the call starts (``Baseline.now``)."""

    def __init__(self, memory_mb: int, scratch: str | None, baseline: tuple[int, int]):
        self.resident, self.proportional = (held + memory_mb * 2**20 for held in baseline)
        self.scratch, self.memory_mb, self.full = scratch, memory_mb, False

    def over(self) -> bytes | None:
        if memory(proportional=False) > self.resident and memory(proportional=True) > self.proportional:
            return wire.encode(("raised", "MemoryError", f"its processes together held more than "
                                                         f"{self.memory_mb} MB", ""))
        if self.scratch and scratch_bytes(self.scratch) > SCRATCH_BYTES:
            self.full = True
            return wire.encode(("failed", f"the call wrote more than {SCRATCH_BYTES >> 20} MB to its scratch "
                                          "folder (what it had written there is removed)"))
        return None

    def ended(self) -> None:
        """The call's processes were ended: a full scratch folder is emptied for the next call."""
        if self.full:
            empty(self.scratch)
