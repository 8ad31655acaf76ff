"""The memory a process and everything it started use together, as a container's memory limit counts it.

``Cap(process, mb)`` samples, every ``INTERVAL`` s, the proportional set size (PSS: a shared page counted once
across the processes that share it) of ``process`` and all its descendants, found through /proc; it keeps
the peak, and ends them all when their sum passes ``mb``, as Gradescope's container would be killed.
A peak shorter than the interval can be missed. Linux only (/proc).
"""
import os
import signal
import threading
from pathlib import Path

INTERVAL = 0.2


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending += children.get(current, [])
    return found


def pss_mb(pid: int) -> float:
    """A process's proportional set size in MB (0 when it is gone or cannot be read)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


class Cap:
    """Watches a running process tree; ``peak_mb`` its largest sum seen, ``exceeded`` whether it passed ``mb``."""

    def __init__(self, pid: int, mb: float):
        self.pid, self.mb, self.peak_mb, self.exceeded = pid, mb, 0.0, False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self):
        while not self._done.wait(INTERVAL):
            tree = descendants(self.pid)
            total = sum(pss_mb(pid) for pid in tree)
            self.peak_mb = max(self.peak_mb, total)
            if total > self.mb:
                self.exceeded = True
                for pid in tree:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
