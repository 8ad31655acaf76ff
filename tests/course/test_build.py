"""The one-source build: lessons/ is exactly what solutions/ makes, bad markers are errors, and a lesson edited
by hand is never overwritten."""
import shutil

import pytest

from tbcourse.authoring.build import BUILD_RECORD, EditedLessons, MarkerError, build, strip_solutions
from tbcourse.settings import SOLUTIONS

SOURCE = '''def f(x):
    """Doc."""
    ### BEGIN SOLUTION 09.1: return x doubled
    y = 2 * x
    return y
    ### END SOLUTION


def g():
    return 1
'''


def test_lessons_are_the_build_of_solutions():
    assert build(check=True) == [], "lessons/ differs from the build of solutions/: run `make lessons`"


def test_marked_region_becomes_a_stub_with_its_instruction():
    out = strip_solutions(SOURCE)
    assert "2 * x" not in out and "def g():" in out
    namespace = {}
    exec(out, namespace)
    with pytest.raises(NotImplementedError, match=r"^TODO\(09\.1\): return x doubled$"):
        namespace["f"](1)


@pytest.mark.parametrize("broken, complaint", [
    (SOURCE.replace("    ### END SOLUTION\n", "", 1), "never closed"),
    (SOURCE.replace("    ### BEGIN SOLUTION 09.1: return x doubled\n", "", 1), "without a BEGIN"),
    (SOURCE.replace("    y = 2 * x\n", "    ### BEGIN SOLUTION 09.2: nested\n", 1), "inside the one opened"),
    (SOURCE.replace("09.1: return", "09.1 return", 1), "malformed marker"),
])
def test_bad_markers_are_errors(broken, complaint):
    with pytest.raises(MarkerError, match=complaint):
        strip_solutions(broken)


def test_a_lesson_edited_by_hand_is_never_overwritten(tmp_path):
    """make lessons refuses, writing nothing, while a lesson differs from what the build last wrote; with
    --force it first keeps the edited file beside it. A lesson the build wrote is rebuilt freely."""
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    shutil.copytree(SOLUTIONS, solutions, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
    build(solutions, lessons)
    assert (lessons / BUILD_RECORD).exists()
    mine, theirs = lessons / "01_add_image.py", lessons / "02_make_grid.py"
    mine.write_text(mine.read_text() + "\n# my work\n")
    (solutions / "02_make_grid.py").write_text((solutions / "02_make_grid.py").read_text() + "\n# the author's change\n")
    with pytest.raises(EditedLessons, match="01_add_image.py"):
        build(solutions, lessons)
    assert mine.read_text().endswith("# my work\n") and "the author's change" not in theirs.read_text(), \
        "a refused build wrote something"
    assert set(build(solutions, lessons, force=True)) == {"lessons/01_add_image.py", "lessons/02_make_grid.py"}
    [kept] = lessons.glob("01_add_image.py.*.bak")
    assert kept.read_text().endswith("# my work\n"), "the edited lesson was not kept"
    assert "the author's change" in theirs.read_text() and not list(lessons.glob("02_make_grid.py.*.bak"))
    assert build(solutions, lessons, check=True) == []
