"""How the graded tests reach a student's lesson file: ``lesson = StudentLesson("01_add_image")``.

``lesson.displayed_pixels(img)`` runs that function of ``<work>/01_add_image.py`` in a child process
(``tbcourse.runner``) and returns its result as plain data; the work folder is ``COURSE_WORK``
(default: ``lessons/``). A missing file, a syntax error, an exception at import or a missing function
fails only the tests that call it, with a one-line reason; the rest of the grade goes on.
"""
import itertools
import os
from functools import partial
from pathlib import Path

import pytest

from tbcourse.i18n import _
from tbcourse.runner import api
from tbcourse.settings import Settings

_numbers = itertools.count(1)
_checks_tmp = api.temporary_folder("course-checks-")  # removed by the next checker if this one is killed


def work_dir() -> Path:
    return Settings.from_env().work.resolve()


class StudentLesson:
    def __init__(self, name: str):
        self.name = name

    @property
    def path(self) -> Path:
        return work_dir() / f"{self.name}.py"

    def __getattr__(self, function: str):
        if function.startswith("_"):
            raise AttributeError(function)
        if not self.path.exists():
            pytest.fail(_missing(self.path), pytrace=False)
        return partial(_call, self.path, function)


def lesson_problem(name: str) -> str | None:
    """Why the lesson file ``name`` cannot be used at all (missing, broken at import), or None."""
    path = work_dir() / f"{name}.py"
    return api.import_problem(path) if path.exists() else _missing(path)


def _missing(path: Path) -> str:
    return _("{file} is missing from {folder}").format(file=path.name,
                                                       folder=Settings.from_env().work_label or path.parent)


def _call(path, function, *args, **kwargs):
    try:
        return api.call(path, function, args, kwargs)
    except api.CallFailed as err:  # a test fails with the one line, no traceback
        raise pytest.fail.Exception(str(err), pytrace=False) from None


def hold(module) -> None:
    """Let student code's workers share the memory of a model that many calls are handed (AlexNet): its large
    storages move to the files the calls map, copy-on-write, so it is in memory once."""
    api.hold(module)


def writable_path(name: str) -> Path:
    """A new file path that student code may write to and the test then reads with ``read_back``: in the
    scratch folder where student code is sandboxed, else in a temporary folder of the checks."""
    folder = Settings.from_env().scratch or Path(_checks_tmp.name)
    return folder / f"{name}-{next(_numbers)}"


def read_back(path: Path, limit: int = 2**20) -> str:
    """What student code wrote to ``path``: a regular file only (no link followed), at most ``limit`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return ""
    with os.fdopen(fd, "rb") as f:
        return f.read(limit).decode("utf-8", "replace")
