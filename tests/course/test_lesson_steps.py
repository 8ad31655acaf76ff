"""Every lesson has every piece that CONTRIBUTING.md's "Adding a lesson" lists, so a new lesson that misses
one fails here, by name, instead of somewhere later."""
import re

import pytest

from tbcourse.authoring.build import exercise_ids, lesson_text
from tbcourse.grading.manifest import exercises, graded_points
from tbcourse.settings import LESSONS, ROOT, SOLUTIONS, SYLLABUS, graded_test_files, lesson_names

CONTRIBUTING = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")


def missing_steps(lesson: str, solutions=SOLUTIONS) -> list[str]:
    number, missing = lesson[:2], []
    source = (solutions / f"{lesson}.py").read_text(encoding="utf-8")
    ids = exercise_ids(source)
    if not ids:
        missing.append(f"1. no exercise marked in solutions/{lesson}.py")
    built = LESSONS / f"{lesson}.py"
    if not built.exists() or built.read_text(encoding="utf-8") != lesson_text(source, lesson):
        missing.append(f"2. lessons/{lesson}.py is not the build of solutions/{lesson}.py (make lessons)")
    if [ex for ex in exercises() if ex.startswith(number + ".")] != ids:
        missing.append(f"3. exercises.toml does not list exactly {ids}, in order")
    if not re.search(rf"^## {number} — .+\(`{lesson}\.py`\)$", SYLLABUS.read_text(encoding="utf-8"), re.M):
        missing.append(f"4. docs/syllabus.md has no section '## {number} — ... (`{lesson}.py`)'")
    points = graded_points()
    if not graded_test_files(lesson) or any(ex not in points for ex in ids):
        missing.append(f"5. tests/graded/test_{lesson}.py does not mark every exercise of the lesson with points")
    if not (ROOT / "tests" / "errata" / f"test_{lesson}.py").exists():
        missing.append(f"6. no tests/errata/test_{lesson}.py")
    if not (ROOT / "tests" / "course" / f"test_{number}_demo.py").exists():
        missing.append(f"7. no tests/course/test_{number}_demo.py")
    if not re.search(rf"^\| {number} \| ", (ROOT / "README.md").read_text(encoding="utf-8"), re.M):
        missing.append(f"8. README.md's lesson table has no row {number}")
    return missing


@pytest.mark.parametrize("lesson", lesson_names())
def test_lesson_has_every_step(lesson):
    missing = missing_steps(lesson)
    assert not missing, f"{lesson} misses steps of CONTRIBUTING.md's 'Adding a lesson':\n" + "\n".join(missing)


def test_a_lesson_missing_its_steps_is_caught(tmp_path):
    """The check can fail: a new solution with nothing else misses steps 2 to 8."""
    (tmp_path / "07_new_topic.py").write_text("def f():\n    ### BEGIN SOLUTION 07.1: do it\n    pass\n"
                                              "    ### END SOLUTION\n", encoding="utf-8")
    assert [step[0] for step in missing_steps("07_new_topic", tmp_path)] == list("2345678")


def test_contributing_lists_every_step():
    steps = re.findall(r"^\d+\. \*\*", CONTRIBUTING.split("## Adding a lesson", 1)[-1], re.M)
    assert len(steps) >= 8, "CONTRIBUTING.md's 'Adding a lesson' should list the eight steps this test checks"
