"""The exercise manifest, ``exercises.toml``: lesson, function and hint of every syllabus exercise."""
import re
import tomllib
from dataclasses import dataclass

from tbcourse.paths import ROOT


@dataclass(frozen=True)
class Exercise:
    id: str
    lesson: str
    function: str
    hint: str


def exercises() -> dict[str, Exercise]:
    with open(ROOT / "exercises.toml", "rb") as f:
        table = tomllib.load(f)["exercises"]
    return {key: Exercise(id=key, **value) for key, value in sorted(table.items())}


def graded_points() -> dict[str, int]:
    """Exercise id -> the points of its graded tests, read from the marks in tests/graded/."""
    points = {}
    for path in sorted((ROOT / "tests" / "graded").glob("test_*.py")):
        for ex, pts in re.findall(r'mark\.exercise\("(\d\d\.\d+)", points=(\d+)\)', path.read_text()):
            points[ex] = points.get(ex, 0) + int(pts)
    return points
