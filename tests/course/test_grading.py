"""The grader, both ways and against broken work: full marks for the solutions, zero for the stubs,
and a broken lesson costs only its own exercises."""
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys

import pytest

from tbcourse.runner.methods import bwrap
from tbcourse.grading.grade import PYTEST_ENV, pytest_options
from tbcourse.grading.manifest import exercises
from tbcourse.settings import ROOT

MANIFEST = exercises()


def grade(work, report, *options):
    proc = subprocess.run([sys.executable, "-m", "tbcourse.grading.grade", "--work", str(work), "--report", str(report),
                           *options], capture_output=True, text=True, cwd=ROOT, timeout=1800)
    return proc, json.loads(report.read_text())


def copy_of_solutions(tmp_path):
    work = tmp_path / "work"
    shutil.copytree(ROOT / "solutions", work, ignore=shutil.ignore_patterns("__pycache__"))
    return work


# How student code can be started: the ways of tbcourse.runner.methods, as the grade driver's options.
METHODS = {"fork": ["--start-method", "fork"], "spawn": ["--start-method", "spawn"], "bwrap": ["--boundary"]}
_graded = {}


def graded(tmp_path_factory, folder, method):
    """(process, report) of grading ``folder`` with ``method``, once per module."""
    if method == "bwrap" and shutil.which("bwrap") is None:
        pytest.skip(f"bubblewrap is not installed: {bwrap.INSTALL}")
    if (folder, method) not in _graded:
        _graded[folder, method] = grade(ROOT / folder, tmp_path_factory.mktemp(method) / "grade.json", *METHODS[method])
    return _graded[folder, method]


@pytest.mark.parametrize("method", METHODS)
def test_solutions_earn_full_marks(tmp_path_factory, method):
    proc, report = graded(tmp_path_factory, "solutions", method)
    failed = {ex: r["message"] for ex, r in report["exercises"].items() if not r["passed"]}
    assert not failed and proc.returncode == 0, f"solutions lost points: {failed}\n{proc.stdout[-3000:]}"
    assert set(report["exercises"]) == set(MANIFEST)
    assert report["total"] == report["max"] > 0
    assert "total: " in proc.stdout


@pytest.mark.parametrize("method", METHODS)
def test_untouched_lessons_earn_zero_each_on_its_own_stub(tmp_path_factory, method):
    proc, report = graded(tmp_path_factory, "lessons", method)
    assert proc.returncode != 0 and report["total"] == 0
    for ex, result in report["exercises"].items():
        assert result["points"] == 0 and f"TODO({ex})" in result["message"], f"{ex}: {result['message']}"
        assert MANIFEST[ex].function in proc.stdout


@pytest.mark.parametrize("folder", ["solutions", "lessons"])
def test_every_start_method_grades_alike(tmp_path_factory, folder):
    """Points and messages, exercise by exercise, are the same however student code was started."""
    seen = {method: {ex: (r["points"], r["message"]) for ex, r in graded(tmp_path_factory, folder, method)[1]
                     ["exercises"].items()} for method in METHODS if method != "bwrap" or shutil.which("bwrap")}
    for method, results in seen.items():
        assert results == seen["fork"], f"{method} grades {folder}/ unlike fork: " \
            f"{ {ex: (results[ex], seen['fork'][ex]) for ex in results if results[ex] != seen['fork'][ex]} }"


def test_a_syntax_error_costs_that_lesson_only(tmp_path):
    work = copy_of_solutions(tmp_path)
    (work / "01_add_image.py").write_text((work / "01_add_image.py").read_text() + "\ndef broken(:\n")
    proc, report = grade(work, tmp_path / "grade.json")
    for ex, result in report["exercises"].items():
        if ex.startswith("01."):
            assert result["points"] == 0 and "does not compile" in result["message"], result
        else:
            assert result["passed"], f"{ex} lost points for lesson 01's syntax error: {result['message']}"


APPENDED = {
    "exit, hang and a wrong rule": '''
import os

def displayed_pixels(img, dataformats="CHW"):
    os._exit(0)

def as_displayable(img):
    while True:
        pass
''',
    "canned answers and the notes' rule": '''
import numpy as np

def displayed_pixels(img, dataformats="CHW"):
    """The notes' rule: anything above 1 is taken as already in [0, 255]."""
    arr = img.numpy() if hasattr(img, "numpy") else np.asarray(img)
    arr = arr[..., None] if dataformats == "HW" else arr.transpose([dataformats.index(a) for a in "HWC"])
    arr = np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else arr
    return arr.astype(np.uint8) if arr.max() > 1 else (arr.astype(np.float32) * 255).astype(np.uint8)

def as_displayable(img):
    return torch.zeros(3, 8, 8, dtype=torch.uint8)
''',
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", APPENDED)
def test_wrong_work_loses_exactly_its_exercises(tmp_path, kind, method):
    if method == "bwrap" and shutil.which("bwrap") is None:
        pytest.skip(f"bubblewrap is not installed: {bwrap.INSTALL}")
    work = copy_of_solutions(tmp_path)
    lesson = work / "01_add_image.py"
    lesson.write_text(lesson.read_text() + APPENDED[kind])
    proc, report = grade(work, tmp_path / "grade.json", "--lesson", "01", "--timeout", "10", *METHODS[method])
    results = report["exercises"]
    assert set(results) == {"01.1", "01.2", "01.3"}, proc.stdout
    assert results["01.1"]["passed"], results["01.1"]
    assert results["01.2"]["points"] == 0 and results["01.3"]["points"] == 0, proc.stdout
    if kind.startswith("exit"):
        assert "ended the process" in results["01.2"]["message"], proc.stdout
        assert "time limit" in results["01.3"]["message"], proc.stdout


PLUGINS_SEEN = """import pytest

@pytest.mark.exercise("01.1", points=1)
def test_plugins(request):
    loaded = {getattr(plugin, "__name__", "") for plugin in request.config.pluginmanager.get_plugins()}
    assert {"tbcourse.grading.plugin", "pytest_timeout"} <= loaded, loaded
    assert not loaded & OTHERS, loaded & OTHERS
"""


def test_no_other_installed_pytest_plugin_loads_for_the_graded_tests(tmp_path):
    """A pytest plugin installed beside the course (a student's pytest-randomly, say; this environment has anyio's and
    platformdirs') would change how the graded tests run: only the grading plugin and pytest-timeout load."""
    others = {entry.value for entry in importlib.metadata.entry_points(group="pytest11")} - {"pytest_timeout"}
    if not others:
        pytest.skip("no other pytest plugin is installed here to leave out")
    test = tmp_path / "test_01_add_image.py"  # named after a lesson, as the grading plugin wants
    test.write_text(f"OTHERS = {sorted(others)!r}\n" + PLUGINS_SEEN.replace("OTHERS", "set(OTHERS)"))
    proc = subprocess.run([sys.executable, "-m", "pytest", str(test), *pytest_options(60, tmp_path)], cwd=ROOT,
                          env={**os.environ, **PYTEST_ENV}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
