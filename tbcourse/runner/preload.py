"""What a worker imports before any call, so that no call pays for it: the modules the lessons import."""
import ast
import importlib
from pathlib import Path

from tbcourse.settings import LESSONS, SOLUTIONS, lesson_names


def lesson_imports(folder: Path = SOLUTIONS if SOLUTIONS.is_dir() else LESSONS) -> list[str]:
    """Every module that a lesson imports, anywhere in its file (the course's own code left out): read from
    the solutions, or in a student release from the lessons, where a file that does not parse is passed over."""
    found = set()
    for name in lesson_names(folder):
        try:
            tree = ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))
        except (SyntaxError, ValueError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)  # maybe a submodule
    return sorted(name for name in found if name.split(".")[0] != "tbcourse")


PRELOAD = lesson_imports()


def preload(names) -> None:
    """Import what the lessons import, once, so that no call pays for it."""
    for name in filter(None, names):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - ``from package import name`` where the name is no module, or worse
            pass
