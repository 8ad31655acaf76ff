"""Held-back answers: lesson 01 as a student might loosely write it, graded the way a student's folder is graded.
Each loose answer loses exactly its exercise's points, saying why, and the solution keeps full marks."""
import json
import subprocess
import sys

import pytest

from tbcourse.grading.manifest import graded_points
from tbcourse.settings import ROOT, SOLUTIONS

LESSON = "01_add_image"
# exercise -> (a line of the solution, its loose version, what the grader's message must name)
LOOSE = {
    "01.1": ('writer.add_image("fake_img", torch.rand(size, size, 3), 5, dataformats="HWC")',
             'writer.add_image("fake_img", torch.rand(size, size, 3), 5)', "step 5"),  # step 5 read as CHW
    "01.3": ("return img.round().clamp(0, 255).to(torch.uint8)",
             "return img.clamp(0, 255).to(torch.uint8)", "truncated, not rounded"),  # the cast truncates
}


def grade(work, tmp_path):
    report = tmp_path / "grade.json"
    subprocess.run([sys.executable, "-m", "tbcourse.grading.grade", "--work", str(work), "--lesson", LESSON[:2],
                    "--report", str(report)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    return json.loads(report.read_text(encoding="utf-8"))["exercises"]


@pytest.mark.parametrize("loose", [None, *LOOSE])
def test_a_loose_answer_loses_exactly_its_exercise(tmp_path, loose):
    source = (SOLUTIONS / f"{LESSON}.py").read_text(encoding="utf-8")
    if loose:
        line, loose_line, named = LOOSE[loose]
        assert source.count(line) == 1, f"solutions/{LESSON}.py no longer holds {line!r}: update LOOSE"
        source = source.replace(line, loose_line)
    work = tmp_path / "work"
    work.mkdir()
    (work / f"{LESSON}.py").write_text(source, encoding="utf-8")
    got = grade(work, tmp_path)
    want = {ex: 0 if ex == loose else pts for ex, pts in graded_points().items() if ex[:2] == LESSON[:2]}
    assert {ex: result["points"] for ex, result in got.items()} == want
    if loose:
        assert named in got[loose]["message"], f"{loose}'s message should say {named!r}: {got[loose]['message']}"
