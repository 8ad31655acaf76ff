"""The README's first screen tells the truth: the lesson table lists every lesson with its points."""
import re

from tbcourse.grading.manifest import graded_points
from tbcourse.settings import ROOT, lesson_names

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_lesson_table_matches_the_graded_tests():
    table = {nn: (exercises, int(points)) for nn, exercises, points
             in re.findall(r"^\| (\d\d) \| .+? \| (\d\d\.\d+–\d\d\.\d+) \| (\d+) \|$", README, re.M)}
    points = graded_points()
    for lesson in lesson_names():
        nn = lesson[:2]
        ids = sorted(ex for ex in points if ex.startswith(nn + "."))
        assert nn in table, f"README's lesson table has no row for lesson {nn}"
        assert table[nn] == (f"{ids[0]}–{ids[-1]}", sum(points[ex] for ex in ids)), f"README row {nn} is stale"


def test_names_the_two_commands_and_the_grading_ones():
    for command in ("make run", "make check", "make test", "make grade SUBMISSIONS=", "make tensorboard"):
        assert command in README
