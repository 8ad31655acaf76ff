"""Held-back answers, graded the way a student's folder is graded: the solution with one exercise written loosely
(wrong work a check could let through), or attacking the check (earning points without the work). Each loses
exactly its exercise's points, saying why, and the solution keeps full marks. None of them ships.

The attacks run inside bubblewrap, as `make grade` runs a class: there what a test computes as its expectation
must be out of the student's reach, and the inputs it hands over are its own copies."""
import json
import re
import shutil
import subprocess
import sys

import pytest

from tbcourse.grading.manifest import graded_points
from tbcourse.settings import ROOT, SOLUTIONS, lesson_of

# exercise -> (a piece of the solution, its loose version, what the grader's message must name[, the points it
# still earns: those of a check where the loose version is right])
LOOSE = {
    "01.1": ('writer.add_image("fake_img", torch.rand(size, size, 3), 5, dataformats="HWC")',
             'writer.add_image("fake_img", torch.rand(size, size, 3), 5)', "step 5"),  # step 5 read as CHW
    "01.1 grey": ('writer.add_image("fake_img", torch.randn(3, size, size), 1)',  # half black, not one in eight
                  'writer.add_image("fake_img", torch.randn(1, size, size).repeat(3, 1, 1), 1)', "one pixel in eight"),
    "01.1 HW": ('writer.add_image("fake_img", torch.rand(size, size), 4, dataformats="HW")',
                'writer.add_image("fake_img", torch.rand(1, size, size), 4)', "dataformats 'HW'"),  # same picture
    "01.2": ("* 255).clip(0, 255).astype(np.uint8)", "* 255).clip(0, 255).round().astype(np.uint8)",
             "add_image's cast to uint8 truncates", 2),  # rounds: within 1 everywhere, right where all clip to 255
    "01.3": ("return img.round().clamp(0, 255).to(torch.uint8)",
             "return img.clamp(0, 255).to(torch.uint8)", "truncated, not rounded"),  # the cast truncates
    "05.1": ("    with quiet_jit_deprecation():\n        writer.add_graph(",
             "    if True:\n        writer.add_graph(", "deprecation warning"),  # the warning reaches the student
    "05.1 all": ("    with quiet_jit_deprecation():\n        writer.add_graph(",
                 "    with warnings.catch_warnings(action='ignore'):\n        writer.add_graph(", "silences more"),
}

# exercise -> the body that replaces its solution: it earns points only if the check can be cheated
ATTACKS = {
    # Shrinks the image it is handed to one black pixel, in place, and predicts that: a check that computed its
    # expectation from the image after the call, with the change copied back, would agree.
    "01.2": '''
    import numpy as np, torch
    shape = {"HW": (1, 1), "CHW": (1, 1, 1), "HWC": (1, 1, 1)}[dataformats.upper()]
    if isinstance(img, torch.Tensor):
        img.resize_(shape).zero_()
    else:
        img.resize(shape, refcheck=False)
        img[...] = 0
    return np.zeros((1, 1, 3), np.uint8)
''',
    # Copies the newest event file the check logged itself, wherever it can find one, instead of making the grids.
    "02.4": '''
    import glob, os, shutil
    roots = [os.path.dirname(os.environ.get("GRADE_SCRATCH", "/nonexistent")), "/tmp"]
    found = [path for root in roots for path in glob.glob(f"{root}/**/events.out.tfevents.*", recursive=True)
             if "truth" in path]
    if found:
        shutil.copy(max(found, key=os.path.getmtime), writer.log_dir)
''',
}
BLOCK = r"( *### BEGIN SOLUTION {}\b.*\n)(?:.*\n)*?( *### END SOLUTION\n)"


def grade(work, tmp_path, lesson, *options):
    report = tmp_path / "grade.json"
    subprocess.run([sys.executable, "-m", "tbcourse.grading.grade", "--work", str(work), "--lesson", lesson[:2],
                    "--report", str(report), *options], cwd=ROOT, capture_output=True, text=True, timeout=900)
    return json.loads(report.read_text(encoding="utf-8"))["exercises"]


def graded_alone(tmp_path, exercise, source, *options):
    """(what the lesson's exercises earned, what the solution earns) with the lesson file ``source``."""
    lesson = lesson_of(exercise)
    work = tmp_path / "work"
    work.mkdir()
    (work / f"{lesson}.py").write_text(source, encoding="utf-8")
    got = grade(work, tmp_path, lesson, *options)
    full = {ex: pts for ex, pts in graded_points().items() if ex[:2] == lesson[:2]}
    return {ex: result["points"] for ex, result in got.items()}, full, got


@pytest.mark.parametrize("loose", [None, *LOOSE])
def test_a_loose_answer_loses_exactly_its_exercise(tmp_path, loose):
    exercise = (loose or "01.1").split()[0]
    source = (SOLUTIONS / f"{lesson_of(exercise)}.py").read_text(encoding="utf-8")
    kept = 0
    if loose:
        piece, loose_piece, named, kept = (*LOOSE[loose], 0)[:4]
        assert source.count(piece) == 1, f"solutions/{lesson_of(exercise)}.py no longer holds {piece!r}: update LOOSE"
        source = source.replace(piece, loose_piece)
    points, full, got = graded_alone(tmp_path, exercise, source)
    assert points == {ex: kept if loose and ex == exercise else pts for ex, pts in full.items()}
    if loose:
        assert named in got[exercise]["message"], f"{loose}'s message should say {named!r}: {got[exercise]['message']}"


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap: sudo apt-get install bubblewrap")
@pytest.mark.parametrize("exercise", ATTACKS)
def test_an_attack_on_a_check_earns_nothing(tmp_path, exercise):
    source = (SOLUTIONS / f"{lesson_of(exercise)}.py").read_text(encoding="utf-8")
    attack = ATTACKS[exercise].strip("\n")
    source, found = re.subn(BLOCK.format(re.escape(exercise)), lambda m: f"{m[1]}{attack}\n{m[2]}", source)
    assert found == 1, f"no solution block of {exercise} in solutions/{lesson_of(exercise)}.py"
    points, full, got = graded_alone(tmp_path, exercise, source, "--boundary")
    assert points == {ex: 0 if ex == exercise else pts for ex, pts in full.items()}, got[exercise]["message"]
