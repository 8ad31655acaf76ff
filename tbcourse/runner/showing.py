"""What sandboxed student code may read of the checks' temporary folder: the current call's inputs, no more.

The checks' temporary folder holds every test's own folder (pytest's ``tmp_path``: an image file for the
call, but also whatever the test wrote there for itself) and the files of large storages (``holding``). A
boundary's worker reads none of it: it sees one folder, ``shown``, which the checks fill before each call with
hard links to what that call is handed — each file or folder of the checks' one that an argument names by
path, and the held files of the tensors it is given — and empty again when the call is over. An argument
that names such a path reaches the worker naming its shown copy. Hard links cost no copy, and a link is the
same file: it is opened to the sandbox's uid through the link (``let_read``), while the checks' own folders,
which pytest makes for their user alone, stay closed to it.
"""
import os
import shutil
from pathlib import Path, PurePath

from tbcourse.runner.methods.unprivileged import let_read

DEPTH = 4  # of lists, tuples and dicts in the arguments, looked into for paths


def shown_folder(checks: Path) -> Path:
    """The folder of the checks' folder ``checks`` that a boundary binds into its sandbox (read-only), made."""
    folder = checks.resolve() / "shown"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o755)
    return folder


class Shown:
    """What the current call is shown of the checks' folder ``checks``: hard links in its ``shown_folder``."""

    def __init__(self, checks: Path, scratch: Path | None, another_user: bool):
        self.checks, self.folder, self.another_user = checks.resolve(), shown_folder(checks), another_user
        self.own = [self.folder, *([scratch.resolve()] if scratch else [])]  # the sandbox's own: never copied
        self.fresh = False  # something was shown that the sandbox's uid may not read yet

    def values(self, values, depth: int = DEPTH):
        """``values`` with each path into the checks' folder (a ``PurePath`` or a ``str``) replaced by its shown
        copy, made now; the same object where nothing in it changed."""
        if isinstance(values, (str, PurePath)):
            return self.path(values)
        if depth and type(values) in (list, tuple):
            new = [self.values(v, depth - 1) for v in values]
            return values if all(a is b for a, b in zip(new, values)) else type(values)(new)
        if depth and type(values) is dict:
            new = {k: self.values(v, depth - 1) for k, v in values.items()}
            return values if all(new[k] is v for k, v in values.items()) else new
        return values

    def path(self, path):
        """The shown copy of ``path`` (of the same type) if it lies in the checks' folder, made now; else ``path``."""
        try:
            inside = Path(os.path.abspath(path)).relative_to(self.checks)
        except (ValueError, TypeError, OSError):
            return path
        source = self.checks / inside
        if not inside.parts or any(source.is_relative_to(own) for own in self.own):
            return path
        target = self.folder / inside
        if not os.path.lexists(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir() and not source.is_symlink():
                shutil.copytree(source, target, symlinks=True, copy_function=os.link)
            elif source.is_file() and not source.is_symlink():
                os.link(source, target)
            self.fresh = self.fresh or os.path.lexists(target)
        return type(path)(target) if isinstance(path, PurePath) else str(target)

    def opened(self) -> None:
        """Let the sandbox's uid read what was shown since the last call (a test's folder is its user's alone)."""
        if self.another_user and self.fresh:
            let_read(self.folder)
        self.fresh = False

    def clear(self) -> None:
        """Empty the folder (never remove it: the sandbox has it bound)."""
        with os.scandir(self.folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
