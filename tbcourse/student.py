"""Load a student's lesson file for grading, turning every way it can be broken into one clear message.

The graded tests write ``lesson = StudentLesson("01_add_image")`` and call ``lesson.displayed_pixels(...)``.
The file is imported on first use, from the folder named by ``COURSE_WORK`` (default: ``lessons/``).
A missing file, a syntax error, an exception at import or a missing function fails only the tests
that use it, with a one-line reason; the rest of the grade goes on.
"""
import importlib.util
import os
from pathlib import Path

import pytest

from tbcourse.paths import ROOT

WORK_ENV = "COURSE_WORK"


def work_dir() -> Path:
    return Path(os.environ.get(WORK_ENV, ROOT / "lessons")).resolve()


class StudentLesson:
    def __init__(self, name: str):
        self.name = name
        self._module = None
        self._error = None

    @property
    def path(self) -> Path:
        return work_dir() / f"{self.name}.py"

    def _load(self):
        if self._module is None and self._error is None:
            self._module, self._error = _import(self.path, f"student_{self.name}")
        if self._error:
            pytest.fail(self._error, pytrace=False)
        return self._module

    def __getattr__(self, function: str):
        if function.startswith("_"):
            raise AttributeError(function)
        found = getattr(self._load(), function, None)
        if not callable(found):
            pytest.fail(f"{self.path.name} has no function {function}(); keep the name and signature "
                        f"of the syllabus", pytrace=False)
        return found


def _import(path: Path, module_name: str):
    """(module, None) or (None, the reason it cannot be used)."""
    if not path.exists():
        return None, f"{path.name} is missing from {path.parent}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        return None, f"{path.name} does not compile: line {err.lineno}: {err.msg}"
    except BaseException as err:  # SystemExit too: a lesson's import must not end the grade
        return None, f"importing {path.name} raised {type(err).__name__}: {err}"
    return module, None
