"""The README tells the truth: the lesson table lists every lesson with its points, and what it says of the libraries
holds for the installed ones."""
import re
import subprocess
import sys

from tbcourse.grading.manifest import graded_points
from tbcourse.settings import ROOT, lesson_names

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_lesson_table_matches_the_graded_tests():
    """Each lesson's points, public and hidden checks together, and how many of them are hidden."""
    table = {nn: (exercises, int(points), int(hidden)) for nn, exercises, points, hidden
             in re.findall(r"^\| (\d\d) \| .+? \| (\d\d\.\d+–\d\d\.\d+) \| (\d+) \| (\d+) \|$", README, re.M)}
    points, public = graded_points(), graded_points(hidden=False)
    for lesson in lesson_names():
        nn = lesson[:2]
        ids = sorted(ex for ex in points if ex.startswith(nn + "."))
        assert nn in table, f"README's lesson table has no row for lesson {nn}"
        total = sum(points[ex] for ex in ids)
        assert table[nn] == (f"{ids[0]}–{ids[-1]}", total, total - sum(public.get(ex, 0) for ex in ids)), \
            f"README row {nn} is stale"


def test_names_the_two_commands_and_the_grading_ones():
    for command in ("make run", "make check", "make test", "make grade SUBMISSIONS=", "make tensorboard"):
        assert command in README


def test_importing_torchvision_brings_in_torch_dynamo_as_the_readme_says():
    """The README explains the boundary's cost by the import of torch each sandboxed worker pays, a third of it
    torch._dynamo, which torchvision imports whatever the program uses. If torchvision stops, say so there."""
    assert "torch._dynamo" in README
    code = "import sys, torch; before = 'torch._dynamo' in sys.modules; import torchvision; " \
           "print(before, 'torch._dynamo' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"], f"torch alone, then torchvision: torch._dynamo imported? {out}"
