"""The checks' temporary folders, removed even after a checker that was killed could not remove its own.

A folder is named after the process that made it (``course-checks-<pid>-...``); each new one first removes
the folders of the same kind whose process is gone (SIGKILL, a machine that lost power: no ``finally`` ran).
"""
import os
import shutil
import tempfile
from pathlib import Path


def temporary_folder(prefix: str) -> tempfile.TemporaryDirectory:
    """A TemporaryDirectory named ``<prefix><pid>-...``, after removing those of ``prefix`` left by dead processes."""
    for folder in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        pid = folder.name[len(prefix):].split("-", 1)[0]
        try:
            mine = folder.is_dir() and not folder.is_symlink() and folder.stat().st_uid == os.getuid()
        except OSError:
            continue
        if mine and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    return tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
