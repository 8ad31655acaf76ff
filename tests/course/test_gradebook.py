"""`make grade`: a class of correct, partial, broken and cheating submissions gets exactly its grades."""
import csv
import json
import subprocess
import sys

import pytest

from tbcourse.grading.intake import copy_lessons, lesson_files
from tbcourse.grading.notebooks import STATE
from tbcourse.settings import ROOT

SOLUTION = (ROOT / "solutions" / "01_add_image.py").read_text()
STUB = (ROOT / "lessons" / "01_add_image.py").read_text()
FULL = {"01.1": 2, "01.2": 5, "01.3": 2}

# student -> (files relative to the student's folder, the points expected per lesson 01 exercise)
CLASS = {
    "correct": ({"01_add_image.py": SOLUTION}, FULL),
    "clone_with_lessons_folder": ({"lessons/01_add_image.py": SOLUTION, "README.md": "mine"}, FULL),
    "untouched": ({"01_add_image.py": STUB}, {}),
    "syntax_error": ({"01_add_image.py": SOLUTION + "\nif True print('x')\n"}, {}),
    "exception_at_import": ({"01_add_image.py": "raise RuntimeError('boom')\n" + SOLUTION}, {}),
    "exit_at_import": ({"01_add_image.py": "import os\nos._exit(0)\n" + SOLUTION}, {}),
    "sys_exit_at_import": ({"01_add_image.py": "import sys\nsys.exit(0)\n" + SOLUTION}, {}),
    "missing_functions": ({"01_add_image.py": SOLUTION.split("# %% [markdown]\n# ### The scaling rule")[0]},
                          {"01.1": 2}),
    "endless_loop": ({"01_add_image.py": SOLUTION + "\ndef displayed_pixels(img, dataformats='CHW'):\n"
                      "    while True:\n        pass\n"}, {"01.1": 2, "01.3": 2}),
    "memory_bomb": ({"01_add_image.py": SOLUTION + "\ndef as_displayable(img):\n    hoard = []\n"
                     "    while True:\n        hoard.append(bytearray(10**8))\n"}, {"01.1": 2, "01.2": 5}),
    "canned_outputs": ({"01_add_image.py": SOLUTION + "\ndef displayed_pixels(img, dataformats='CHW'):\n"
                        "    return np.zeros((16, 16, 3), dtype=np.uint8)\n"}, {"01.1": 2, "01.3": 2}),
    "claims_to_equal_anything": ({"01_add_image.py": SOLUTION + '''
class Anything(np.ndarray):
    def __eq__(self, other):
        return True

def as_displayable(img):
    return torch.zeros(1)

def displayed_pixels(img, dataformats="CHW"):
    return np.zeros((1, 1, 3), dtype=np.uint8).view(Anything)
'''}, {"01.1": 2}),
    "patches_the_checks": ({"01_add_image.py": STUB.replace("import numpy as np", '''import json, os
import numpy as np
import numpy.testing
import pytest
import torch

torch.equal = lambda *a, **k: True
torch.allclose = lambda *a, **k: True
np.testing.assert_array_equal = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
pytest.fail = lambda *a, **k: None
if os.environ.get("GRADE_RECORD"):
    with open(os.environ["GRADE_RECORD"], "a") as forged:
        forged.write(json.dumps({"event": "result", "test": "x", "passed": True, "message": ""}) + "\\n")
''', 1)}, {}),
    "edited_tests_inside": ({"lessons/01_add_image.py": STUB, "conftest.py": "import pytest\n"
                             "@pytest.hookimpl(tryfirst=True)\ndef pytest_runtest_call(item):\n    pass\n",
                             "tests/graded/test_01_add_image.py": "def test_ok():\n    assert True\n",
                             "pytest.ini": "[pytest]\naddopts = -p no:grading_plugin\n",
                             "Makefile": "test:\n\techo 100/100\n"}, {}),
    "no_lesson_files": ({"notes.txt": "I did it on paper"}, {}),
}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    submissions, reports = tmp_path_factory.mktemp("class"), tmp_path_factory.mktemp("reports")
    for student, (files, _) in CLASS.items():
        for name, text in files.items():
            (submissions / student / name).parent.mkdir(parents=True, exist_ok=True)
            (submissions / student / name).write_text(text)
    command = [sys.executable, "-m", "tbcourse.grading.gradebook", str(submissions), "--reports", str(reports),
               "--lesson", "01", "--timeout", "10"]
    first = subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=ROOT)
    return submissions, reports, command, first


def rows(text):
    """The gradebook's student rows (not the maxima), exercise columns by id (``01.2 displayed_pixels()`` -> ``01.2``)."""
    table = csv.DictReader(text.removeprefix("\ufeff").splitlines())
    return {row["student"]: {key.split(" ")[0]: value for key, value in row.items()} for row in table
            if row["student"] != "(maximum)"}


def test_every_student_gets_exactly_the_grade_deserved(graded_class):
    _, reports, _, first = graded_class
    assert first.returncode == 0, first.stderr[-3000:]
    book = rows((reports / "gradebook.csv").read_text())
    assert set(book) == set(CLASS)
    for student, (_, expected) in CLASS.items():
        got = {ex: int(book[student][ex]) for ex in FULL}
        assert got == {ex: expected.get(ex, 0) for ex in FULL}, f"{student}: {got}"
        assert book[student]["total"] == str(sum(got.values()))
    assert book["no_lesson_files"]["status"] == "no lesson files found"
    assert f"[{len(CLASS)}/{len(CLASS)}]" in first.stdout, "progress is shown"


def test_feedback_names_the_reason(graded_class):
    _, reports, _, _ = graded_class
    assert "time limit" in (reports / "feedback" / "endless_loop.md").read_text()
    assert "ended the process" in (reports / "feedback" / "exit_at_import.md").read_text()
    assert "MemoryError" in (reports / "feedback" / "memory_bomb.md").read_text()
    assert "does not compile" in (reports / "feedback" / "syntax_error.md").read_text()
    assert "hint:" in (reports / "feedback" / "untouched.md").read_text()


def test_rerun_gives_the_same_grades_and_regrades_only_what_changed(graded_class):
    submissions, reports, command, _ = graded_class
    before = (reports / "gradebook.csv").read_text()
    kept = (reports / "grades" / "correct.json").stat().st_mtime_ns
    (reports / "grades" / "untouched.json").unlink()  # as if the run had been interrupted there
    (submissions / "canned_outputs" / "01_add_image.py").write_text(SOLUTION)  # a resubmission
    again = subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=ROOT)
    assert again.returncode == 0, again.stderr[-3000:]
    assert (reports / "grades" / "correct.json").stat().st_mtime_ns == kept, "an unchanged student was regraded"
    book, old = rows((reports / "gradebook.csv").read_text()), rows(before)
    assert {ex: int(book["canned_outputs"][ex]) for ex in FULL} == FULL
    del book["canned_outputs"], old["canned_outputs"]
    assert book == old


def test_lesson_files_anywhere_lessons_folder_first_then_nearest_the_top_no_link_followed(tmp_path):
    for name in ("01_add_image.py", "work/02_make_grid.py", "course/lessons/01_add_image.py",
                 "course/lessons/01_add_image.ipynb", "a/b/02_make_grid.py", "a/b/03_alexnet_kernels.py",
                 ".git/04_feature_maps.py", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"# {name}\n")
    (tmp_path / "course/lessons" / STATE).write_text('{"01_add_image": "a", "02_make_grid": "b"}')
    (tmp_path / "05_add_graph.py").symlink_to(ROOT / "solutions" / "05_add_graph.py")
    (tmp_path / "linked").symlink_to(ROOT / "solutions", target_is_directory=True)
    found = lesson_files(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a/b/03_alexnet_kernels.py", "course/lessons/" + STATE, "course/lessons/01_add_image.ipynb",
        "course/lessons/01_add_image.py", "work/02_make_grid.py"]
    (tmp_path / "graded").mkdir()
    copy_lessons(found, tmp_path / "graded")  # one folder; the sync record keeps the entries of its own lessons
    assert (tmp_path / "graded/02_make_grid.py").read_text() == "# work/02_make_grid.py\n"
    assert json.loads((tmp_path / "graded" / STATE).read_text()) == {"01_add_image": "a"}
