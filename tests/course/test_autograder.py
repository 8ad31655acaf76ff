"""make autograder and make autograder-check: the zip holds the grader and no answer; run as Gradescope runs
it, it grades the solutions full and the untouched lessons zero, and a broken submission — uploaded as loose
files, or as a nested clone graded as the unprivileged user — to a results.json in Gradescope's format that
still lists every exercise with the course's points, while a lesson that tries to write results.json cannot."""
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from importlib.metadata import version

import pytest
from jsonschema import Draft202012Validator
from packaging.requirements import Requirement

from tbcourse.platforms.gradescope_bundle import build
from tbcourse.runner.methods import bwrap, unprivileged
from tbcourse.platforms.gradescope import BUDGET_ENV, NO_FILES, VISIBILITY_ENV, results as results_json
from tbcourse.grading.manifest import exercises, graded_points
from tbcourse.settings import (AUTOGRADER_BOUNDARY_ENV, GRADESCOPE_SCHEMA, LESSONS, ROOT, SOLUTIONS, TESTED_PINS,
                               lesson_names)

POINTS = graded_points()
FORGED = "could not forge results.json"


def available(check) -> bool:
    try:
        check()
        return True
    except bwrap.BoundaryMissing:
        return False


BWRAP, UNPRIVILEGED = available(bwrap.check), available(unprivileged.check)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    path = tmp_path_factory.mktemp("dist") / "autograder.zip"
    assert build(path) == [], "the autograder would ship lines of answers"
    return path


def run_check(archive, submission, root, *options, env=None):
    """make autograder-check: (its process, the results.json it kept)."""
    report = root.parent / f"{root.name}-results.json"
    proc = subprocess.run([sys.executable, "-m", "tbcourse.platforms.gradescope_bundle", "check", str(submission),
                           "--zip", str(archive), "--root", str(root), "--report", str(report), *options],
                          capture_output=True, text=True, cwd=ROOT, timeout=1800, env={**os.environ, **(env or {})})
    assert report.exists(), f"no results.json:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc, json.loads(report.read_text(encoding="utf-8"))


def lesson_points(number: str) -> int:
    return sum(points for ex, points in POINTS.items() if ex.startswith(f"{number}."))


def broken_lessons(results_json) -> dict[str, str]:
    """Lesson file -> text: 00 tries to write Gradescope's results.json, 01 does not compile, 02 ends the
    process when imported, 06 is missing; 03-05 are the solutions."""
    solution = {name: (SOLUTIONS / f"{name}.py").read_text(encoding="utf-8") for name in lesson_names()}
    names = dict(zip(("00", "01", "02"), lesson_names()))
    return {**{name: solution[name] for name in lesson_names()[3:6]},
            names["00"]: solution[names["00"]] + f'''

def grad_norms(model):
    try:
        with open({str(results_json)!r}, "w") as forged:
            forged.write('{{"score": 1000, "tests": []}}')
    except OSError as err:
        raise RuntimeError("{FORGED}: " + type(err).__name__) from None
    raise RuntimeError("forged results.json")
''',
            names["01"]: solution[names["01"]] + "\nif True print('x')\n",
            names["02"]: "import os\nos._exit(0)\n" + solution[names["02"]]}


def write(folder, files: dict[str, str]):
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def assert_gradescope_format(proc, results):
    """Valid for Gradescope (the check's exit code), one test per exercise, worth the course's points."""
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert [t["name"] for t in results["tests"]] == [ex.title for ex in exercises().values()]
    assert [t["max_score"] for t in results["tests"]] == [POINTS[ex] for ex in exercises()]
    assert sum(t["max_score"] for t in results["tests"]) == sum(POINTS.values())
    assert results["score"] == sum(t["score"] for t in results["tests"]) and results["execution_time"] >= 0
    assert [t["number"] for t in results["tests"]] == list(exercises()), "each test is numbered by its exercise"
    assert results["output_format"] == results["test_output_format"] == "text", "a student's path rendered as HTML"
    for test in results["tests"]:
        assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed"), test
        assert test["output"], f"{test['name']} says nothing"


needs_a_boundary = pytest.mark.skipif(not (BWRAP or UNPRIVILEGED), reason="neither bubblewrap nor root is here")


def test_the_zip_holds_setup_run_and_the_grader_and_no_answer(archive):
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in zipped.infolist()}
        setup, run = zipped.read("setup.sh").decode(), zipped.read("run_autograder").decode()
    assert {name.split("/")[0] for name in names} == {"setup.sh", "run_autograder", "tbcourse", "lessons", "tests",
                                                      "data", "exercises.toml", "requirements.txt", "pyproject.toml"}
    assert all(stat.S_IMODE(modes[name]) == 0o755 for name in ("setup.sh", "run_autograder"))
    assert not any(name.startswith(("tbcourse/authoring", "solutions")) for name in names)
    assert {name.split("/")[1] for name in names if name.startswith("tests/")} == {"graded", "hidden", "keys"}
    instructors = [name for name in names if name.startswith(("tests/hidden/", "tests/keys/"))]
    assert "tests/keys/faces_review.json" in instructors and "tests/hidden/test_02_make_grid_hidden.py" in instructors
    assert all(stat.S_IMODE(modes[name]) == 0o600 for name in instructors), "the hidden checks are root's only"
    assert all(pin in setup for pin in TESTED_PINS) and "-r requirements.txt" in setup and "bubblewrap" in setup
    assert "https://download.pytorch.org/whl/cpu" in setup and "tbcourse.platforms.gradescope" in run


def test_the_pins_are_the_versions_make_check_runs_on_and_within_requirements():
    ranges = {Requirement(line).name: Requirement(line).specifier for line in
              (ROOT / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")}
    for pin in map(Requirement, TESTED_PINS):
        installed = version(pin.name).split("+")[0]
        assert pin.specifier.contains(installed), f"{pin} is pinned, {installed} is installed and tested"
        assert ranges[pin.name].contains(installed), f"{pin} is outside requirements.txt's {ranges[pin.name]}"


@needs_a_boundary
def test_the_solutions_earn_full_marks(archive, tmp_path):
    submission = write(tmp_path / "upload", {f"{n}.py": (SOLUTIONS / f"{n}.py").read_text() for n in lesson_names()})
    proc, results = run_check(archive, submission, tmp_path / "autograder")
    assert_gradescope_format(proc, results)
    assert results["score"] == sum(POINTS.values()), [t for t in results["tests"] if t["status"] != "passed"]


@needs_a_boundary
def test_the_untouched_lessons_earn_zero_each_on_its_own_todo(archive, tmp_path):
    submission = tmp_path / "upload"
    shutil.copytree(LESSONS, submission / "lessons", ignore=shutil.ignore_patterns("__pycache__", ".*"))
    proc, results = run_check(archive, submission, tmp_path / "autograder")
    assert_gradescope_format(proc, results)
    assert results["score"] == 0
    for test, ex in zip(results["tests"], exercises()):
        assert f"TODO({ex})" in test["output"], test


def check_broken(proc, results, root):
    assert_gradescope_format(proc, results)
    lost = {"00.2": POINTS["00.2"], "01": lesson_points("01"), "02": lesson_points("02"), "06": lesson_points("06")}
    assert results["score"] == sum(POINTS.values()) - sum(lost.values()), proc.stdout[-3000:]
    outputs = {test["name"].split()[0]: test["output"] for test in results["tests"]}
    assert FORGED in outputs["00.2"], outputs["00.2"]
    assert "does not compile" in outputs["01.1"] and "ended the process" in outputs["02.1"]
    assert f"{lesson_names()[6]}.py is missing from your submission" in outputs["06.1"]
    assert json.loads((root / "results" / "results.json").read_text()) == results, "results.json was rewritten"


@needs_a_boundary
def test_a_broken_upload_of_loose_files_costs_only_its_lessons(archive, tmp_path):
    root = tmp_path / "autograder"
    loose = {f"{name}.py": text for name, text in broken_lessons(root / "results" / "results.json").items()}
    submission = write(tmp_path / "upload", loose)
    proc, results = run_check(archive, submission, root)
    check_broken(proc, results, root)


@pytest.mark.skipif(not UNPRIVILEGED,
                    reason="running student code as a uid of its own needs root and a Python any user may run")
def test_a_broken_nested_clone_graded_as_the_unprivileged_user_the_same(archive, tmp_path):
    root = tmp_path / "autograder"
    clone = {f"course-main/lessons/{n}.py": t for n, t in broken_lessons(root / "results" / "results.json").items()}
    decoys = {"course-main/backup/01_add_image.py": (SOLUTIONS / "01_add_image.py").read_text(),  # not lessons/
              "course-main/tests/graded/test_00_gradient_histograms.py": "def test_ok():\n    pass\n"}
    submission = write(tmp_path / "upload", {**clone, **decoys})
    proc, results = run_check(archive, submission, root, env={AUTOGRADER_BOUNDARY_ENV: "unprivileged"})
    check_broken(proc, results, root)
    assert "as an unprivileged user" in (root / "results" / "stdout").read_text()


def test_an_upload_without_lesson_files_still_gets_every_exercise_at_zero(archive, tmp_path):
    proc, results = run_check(archive, write(tmp_path / "upload", {"notes.txt": "on paper"}), tmp_path / "autograder")
    assert_gradescope_format(proc, results)
    assert results["score"] == 0 and all(test["output"] == NO_FILES for test in results["tests"])


def test_without_a_boundary_nothing_is_graded_and_every_exercise_says_why(archive, tmp_path):
    upload = write(tmp_path / "upload", {"01_add_image.py": (SOLUTIONS / "01_add_image.py").read_text()})
    proc, results = run_check(archive, upload, tmp_path / "autograder", env={AUTOGRADER_BOUNDARY_ENV: "none"})
    assert proc.returncode == 1 and "not Gradescope's format" not in proc.stderr, proc.stderr
    assert results["score"] == 0 and sum(t["max_score"] for t in results["tests"]) == sum(POINTS.values())
    for test in results["tests"]:
        assert "through no fault of yours" in test["output"] and f"{AUTOGRADER_BOUNDARY_ENV}=none" in test["output"]


def test_bad_input_gets_one_line(archive, tmp_path):
    command = [sys.executable, "-m", "tbcourse.platforms.gradescope_bundle", "check"]
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "old").write_text("")
    for args, said in ((["nowhere"], "is not a folder"),
                       ([str(tmp_path), "--zip", "none.zip"], "make autograder first"),
                       ([str(tmp_path), "--zip", str(archive), "--root", str(tmp_path / "root")], "is not empty")):
        proc = subprocess.run([*command, *args], capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 2 and said in proc.stderr and len(proc.stderr.splitlines()) == 1, proc.stderr


@needs_a_boundary
def test_a_looping_submission_gets_what_was_graded_before_the_budget_ran_out(archive, tmp_path):
    """Lesson 00 honest, lesson 01's every call an endless loop (each stopped at its 60 s limit): with a budget of
    60 s, lesson 00 keeps its points and every exercise says something, instead of Gradescope's silent 0."""
    loop = "\n\ndef {name}(*args, **kwargs):\n    while True:\n        pass\n"
    names = lesson_names()
    looping = (SOLUTIONS / f"{names[1]}.py").read_text() + "".join(
        loop.format(name=exercise.function) for ex, exercise in exercises().items() if ex.startswith("01."))
    upload = write(tmp_path / "upload", {f"{names[0]}.py": (SOLUTIONS / f"{names[0]}.py").read_text(),
                                         f"{names[1]}.py": looping})
    proc, results = run_check(archive, upload, tmp_path / "autograder", env={BUDGET_ENV: "60"})
    assert_gradescope_format(proc, results)
    assert "time budget (60 s) ran out" in results["output"], results["output"]
    outputs = {test["number"]: test for test in results["tests"]}
    assert all(outputs[ex]["score"] == POINTS[ex] for ex in POINTS if ex.startswith("00.")), results["output"]
    assert results["score"] == lesson_points("00") and results["execution_time"] < 120


def test_results_can_stay_hidden_until_the_due_date(monkeypatch, tmp_path):
    monkeypatch.setenv(VISIBILITY_ENV, "after_due_date")
    content = results_json(None, NO_FILES, [], 1)
    assert content["visibility"] == "after_due_date"
    Draft202012Validator(json.loads(GRADESCOPE_SCHEMA.read_text(encoding="utf-8"))).validate(content)
    assert build(tmp_path / "ag.zip", budget=90, visibility="after_due_date") == []
    with zipfile.ZipFile(tmp_path / "ag.zip") as zipped:
        run = zipped.read("run_autograder").decode()
    assert f'{VISIBILITY_ENV}="${{{VISIBILITY_ENV}:-after_due_date}}"' in run
    assert f'{BUDGET_ENV}="${{{BUDGET_ENV}:-90}}"' in run


@needs_a_boundary
def test_the_check_fails_a_run_that_passes_the_memory_cap(archive, tmp_path):
    upload = write(tmp_path / "upload", {"01_add_image.py": (SOLUTIONS / "01_add_image.py").read_text()})
    proc = subprocess.run([sys.executable, "-m", "tbcourse.platforms.gradescope_bundle", "check", str(upload), "--zip",
                           str(archive), "--root", str(tmp_path / "root"), "--report", str(tmp_path / "r.json"),
                           "--memory-mb", "150"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 1 and "passed 150 MB and was killed" in proc.stderr, proc.stdout + proc.stderr
