"""GitHub Classroom: the student release's workflow parses; it grades once, then has one command-grader step
per exercise, worth that exercise's points (adding up to the course's), and a reporter that lists every step
with its result; and in a release each step's command passes on a grade of the solutions and fails on a
grade of the untouched lessons, run as the actions run them."""
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from tbcourse.platforms.gradescope_bundle import thin_venv
from tbcourse.authoring.release import release
from tbcourse.platforms.classroom_workflow import step_id
from tbcourse.grading.manifest import exercises, graded_points
from tbcourse.settings import CLASSROOM_WORKFLOW, SOLUTIONS, lesson_names

COMMAND_GRADER = "classroom-resources/autograding-command-grader@v1"  # what GitHub Classroom generates
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
POINTS = graded_points()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A student release with the .venv the workflow's setup step makes (over this environment's packages)."""
    dest = tmp_path_factory.mktemp("classroom") / "course"
    release(dest)
    thin_venv(dest / ".venv")
    return dest


@pytest.fixture(scope="module")
def steps(course):
    workflow = yaml.safe_load((course / CLASSROOM_WORKFLOW).read_text(encoding="utf-8"))
    return workflow["jobs"]["run-autograding-tests"]["steps"]


def graders(steps):
    return [step for step in steps if step.get("uses") == COMMAND_GRADER]


def grade(course, steps):
    """The workflow's grading step, run as GitHub Actions runs a step (bash -eo pipefail, the step's env)."""
    (step,) = [step for step in steps if "tbcourse.grading.grade" in step.get("run", "")]
    subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=course, check=True,
                   env={**os.environ, **step["env"]}, capture_output=True, timeout=1800)


def verdicts(course, steps):
    """Each exercise step's command, run as the command grader runs it (a shell, only PATH and HOME)."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")}
    return {step["id"]: subprocess.run(step["with"]["command"], shell=True, cwd=course, env=env, capture_output=True,
                                       text=True, timeout=120) for step in graders(steps)}


@pytest.fixture(scope="module")
def graded(course, steps):
    """(untouched lessons, solutions copied in): each step's command, after the workflow's grading step."""
    grade(course, steps)
    untouched = verdicts(course, steps)
    for name in lesson_names():
        shutil.copy2(SOLUTIONS / f"{name}.py", course / "lessons" / f"{name}.py")
    grade(course, steps)
    return untouched, verdicts(course, steps)


def test_one_step_per_exercise_worth_its_points_after_grading_once(steps):
    found = {step["id"]: step["with"] for step in graders(steps)}
    assert list(found) == [step_id(ex) for ex in exercises()]
    for ex, exercise in exercises().items():
        assert found[step_id(ex)]["test-name"] == exercise.title and found[step_id(ex)]["max-score"] == POINTS[ex]
        assert found[step_id(ex)]["command"].split()[-1] == ex
    assert sum(inputs["max-score"] for inputs in found.values()) == sum(POINTS.values())
    names = [step.get("uses") or step.get("run", "") for step in steps]
    assert [i for i, name in enumerate(names) if "tbcourse.grading.grade " in name] == [names.index(COMMAND_GRADER) - 1]


def test_the_reporter_lists_every_step_with_its_result(steps):
    reporter, ids = steps[-1], [step["id"] for step in graders(steps)]
    assert reporter["uses"] == REPORTER and reporter["with"]["runners"].split(",") == ids
    assert reporter["env"] == {f"{step.upper()}_RESULTS": f"${{{{steps.{step}.outputs.result}}}}" for step in ids}


def test_every_step_fails_on_the_untouched_lessons(graded):
    for step, proc in graded[0].items():
        assert proc.returncode == 1 and " FAIL " in proc.stdout and "TODO(" in proc.stdout, f"{step}: {proc.stdout}"


def test_every_step_passes_with_the_solutions(graded):
    for step, proc in graded[1].items():
        assert proc.returncode == 0 and " pass " in proc.stdout, f"{step}: {proc.stdout}{proc.stderr}"


def test_the_run_summary_shows_why_each_exercise_failed(course, steps, graded):
    """The summary step, run as GitHub Actions runs it (``$GITHUB_STEP_SUMMARY`` names a file), on the untouched
    lessons' grade: every exercise with its reason. (``graded`` regraded the solutions: regrade the stubs.)"""
    (step,) = [step for step in steps if "GITHUB_STEP_SUMMARY" in step.get("run", "")]
    assert step["if"] == "always()", "the summary is written even when a step before it failed"
    for name in lesson_names():
        shutil.copy2(SOLUTIONS.parent / "lessons" / f"{name}.py", course / "lessons" / f"{name}.py")
    grade(course, steps)
    summary = course / "summary.md"
    subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=course, check=True,
                   env={**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}, timeout=120)
    text = summary.read_text(encoding="utf-8")
    assert all(f" {ex} " in text for ex in exercises()) and text.count("TODO(") >= len(exercises()), text


def test_the_setup_step_is_bounded_and_pip_is_cached(steps):
    (python,) = [step for step in steps if step.get("uses", "").startswith("actions/setup-python@")]
    assert python["with"]["cache"] == "pip"
    (setup,) = [step for step in steps if "make setup" in step.get("run", "")]
    assert 0 < setup["timeout-minutes"] <= 30


def test_a_step_without_a_grade_fails_saying_why(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tbcourse.platforms.classroom", "01.2", "--report",
                           str(tmp_path / "grade.json")], capture_output=True, text=True)
    assert proc.returncode == 2 and "no grade in" in proc.stderr and len(proc.stderr.splitlines()) == 1
