"""The exercise manifest, ``exercises.toml``: function and hints of every syllabus exercise, in course order.

An exercise's lesson is derived from its id (``01.2`` belongs to ``01_add_image``); its points are
read from the marks on its graded tests: the public ones (tests/graded/) and the hidden ones (tests/hidden/;
in a student release, which has none, their counts from tests/graded/hidden.json). Its hints come in levels,
from a nudge to close: the scorecard shows the first, ``python -m tbcourse hint`` the next each time.
"""
import json
import re
from dataclasses import dataclass

import tomllib

from tbcourse.settings import HIDDEN_SUMMARY, MANIFEST, graded_test_files, hidden_test_files, lesson_names, lesson_of

MARK = re.compile(r'mark\.exercise\("(\d\d\.\d+)", points=(\d+)\)')


@dataclass(frozen=True)
class Exercise:
    id: str
    lesson: str
    function: str
    hints: list[str]  # levels, from where to look to close (never the answer's code)

    @property
    def title(self) -> str:
        """How the cloud graders name it (Gradescope's tests, GitHub Classroom's steps): ``01.2 displayed_pixels()``."""
        return f"{self.id} {self.function}()"


def exercises() -> dict[str, Exercise]:
    """id -> Exercise, in course order."""
    with open(MANIFEST, "rb") as f:
        table = tomllib.load(f)["exercises"]
    names = lesson_names()
    order = sorted(table, key=lambda ex: tuple(map(int, ex.split("."))))
    return {key: Exercise(id=key, lesson=lesson_of(key, names), **table[key]) for key in order}


def _marks(paths) -> dict[str, dict[str, int]]:
    """Exercise id -> {"checks": its test functions, "points": theirs}, read from the marks in ``paths``."""
    found = {}
    for path in paths:
        for ex, pts in MARK.findall(path.read_text(encoding="utf-8")):
            entry = found.setdefault(ex, {"checks": 0, "points": 0})
            entry["checks"] += 1
            entry["points"] += int(pts)
    return found


def hidden_checks() -> dict[str, dict[str, int]]:
    """Exercise id -> {"checks", "points"} of its hidden checks: from tests/hidden/ where it is (the instructor's
    tree, the autograder), else from the summary a student release holds instead."""
    files = hidden_test_files()
    if files or not HIDDEN_SUMMARY.exists():
        return _marks(files)
    return json.loads(HIDDEN_SUMMARY.read_text(encoding="utf-8"))


def graded_points(hidden: bool = True) -> dict[str, int]:
    """Exercise id -> the points of its graded tests: public and hidden, or the public ones only."""
    points = {ex: entry["points"] for ex, entry in _marks(graded_test_files()).items()}
    for ex, entry in (hidden_checks() if hidden else {}).items():
        points[ex] = points.get(ex, 0) + entry["points"]
    return points
