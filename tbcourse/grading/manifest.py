"""The exercise manifest, ``exercises.toml``: function and hints of every syllabus exercise, in course order.

An exercise's lesson is derived from its id (``01.2`` belongs to ``01_add_image``); its points are
read from the marks on its graded tests. Its hints come in levels, from a nudge to close: the scorecard
shows the first, ``python -m tbcourse hint`` the next each time.
"""
import re
from dataclasses import dataclass

import tomllib

from tbcourse.settings import MANIFEST, graded_test_files, lesson_names, lesson_of


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


def graded_points() -> dict[str, int]:
    """Exercise id -> the points of its graded tests, read from the marks in tests/graded/."""
    points = {}
    for path in graded_test_files():
        for ex, pts in re.findall(r'mark\.exercise\("(\d\d\.\d+)", points=(\d+)\)', path.read_text(encoding="utf-8")):
            points[ex] = points.get(ex, 0) + int(pts)
    return points
