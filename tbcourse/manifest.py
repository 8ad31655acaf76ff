"""The exercise manifest, ``exercises.toml``: lesson, function and hint of every syllabus exercise."""
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
