"""Grade one Gradescope submission: ``run_autograder`` runs ``python -m tbcourse.platforms.gradescope``.

Gradescope's autograder specification (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
the autograder zip (``make autograder``) is unpacked into /autograder/source, the student's upload into
/autograder/submission, and what the student gets is /autograder/results/results.json. Another root laid
out the same is named by ``AUTOGRADER_ROOT`` (``make autograder-check``).

The lesson files are found anywhere in the upload (``intake.lesson_files``: loose files, a folder, a
whole clone; no link followed), copied into a folder of the grader's own and graded with the course's
tests. Student code runs inside bubblewrap where the container allows it, else as the unprivileged user
(``tbcourse.runner.methods.unprivileged``); ``AUTOGRADER_BOUNDARY`` names one to insist on it. The grade is
computed in this process's own folders, and only this process writes results.json: one test per
exercise, named ``01.2 displayed_pixels()``, with its points, passed or failed, and the scorecard's
reason and hint. A missing lesson, a file that does not compile or exits, an upload without a lesson
file: each costs only its exercises, and results.json still lists every exercise with its points. What
is not the student's doing (no boundary here, the grader broken) scores nothing, says so, and exits 1.

Time: the grade must end before Gradescope's own timeout, or the student gets a silent 0. So a results.json
saying that grading did not finish is written before grading starts, and the grading gets a total budget,
``AUTOGRADER_BUDGET_SECONDS`` (``make autograder BUDGET=s`` writes it into run_autograder; by default
``BUDGET_SECONDS``, below Gradescope's timeout that the README says to set): when it runs out, the grading
process is ended and the exercises graded so far keep their results; the others fail, saying why.
Every text is plain (``output_format`` text: a path the student chose is never rendered as HTML), every
test is numbered by its exercise id, and ``AUTOGRADER_VISIBILITY`` (``make autograder VISIBILITY=...``:
visible, after_due_date, after_published, hidden) says when students see their results.
"""
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from tbcourse.grading.grade import GradingError, grade_folder, scorecard
from tbcourse.grading.intake import Ambiguous, copy_lessons, lesson_files
from tbcourse.grading.manifest import exercises, graded_points
from tbcourse.grading.notebooks import STATE as NOTEBOOK_STATE
from tbcourse.runner import api
from tbcourse.settings import (AUTOGRADER_BOUNDARY_ENV, AUTOGRADER_ROOT_ENV, BOUNDARIES, ENV, GRADESCOPE_ROOT,
                               OFFLINE_ENV)

LABEL = "your submission"
NO_FILES = ("no lesson file found in your submission: upload your NN_topic.py files (or NN_topic.ipynb "
            "notebooks), the lessons/ folder, or your whole copy of the course")
HOW = {"bwrap": "inside bubblewrap", "unprivileged": "as an unprivileged user (bubblewrap cannot run here)"}
BUDGET_ENV, VISIBILITY_ENV = "AUTOGRADER_BUDGET_SECONDS", "AUTOGRADER_VISIBILITY"
BUDGET_SECONDS = 1200  # the grade's total time; Gradescope's timeout is to be set above it (README: 25 minutes)
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")  # Gradescope's specification
UNFINISHED = ("not graded: the grader was stopped before it finished (Gradescope's time limit?), through no "
              "fault of yours: ask your instructor to rerun it")


def choose_boundary() -> str:
    """The boundary named by AUTOGRADER_BOUNDARY, else bubblewrap where it works here, else the unprivileged
    user; BoundaryMissing, saying why, when none can be had."""
    wanted = os.environ.get(AUTOGRADER_BOUNDARY_ENV)
    if wanted and wanted not in BOUNDARIES:
        raise api.BoundaryMissing(f"{AUTOGRADER_BOUNDARY_ENV}={wanted}: expected one of {', '.join(BOUNDARIES)}")
    reasons = []
    for name in [wanted] if wanted else BOUNDARIES:
        try:
            api.check(name)
            return name
        except api.BoundaryMissing as err:
            reasons.append(f"{name}: {err}")
    raise api.BoundaryMissing("; ".join(reasons))


def results(grade: dict | None, problem: str, graded: list[str], seconds: float) -> dict:
    """results.json: a test per exercise of the course, each worth the points of its graded tests. Without a
    grade, every test fails with ``problem``."""
    points, got, tests = graded_points(), (grade or {}).get("exercises", {}), []
    for ex, info in exercises().items():
        result = got.get(ex, {"points": 0, "passed": False, "message": problem, "hint": ""})
        said = [result["message"]] + ([f"hint: {result['hint']}"] if result["hint"] else [])
        tests.append({"name": info.title, "number": ex, "score": result["points"], "max_score": points[ex],
                      "status": "passed" if result["passed"] else "failed",
                      "output": "passed" if result["passed"] else "\n".join(said)})
    score = sum(test["score"] for test in tests)
    summary = [f"Graded: {', '.join(graded)}" if grade else problem, *(grade or {}).get("synced", [])]
    if grade and not grade["finished"] and seconds >= budget() - 1:
        summary.append(f"The grade's time budget ({budget():.0f} s) ran out: the exercises not reached by then fail. "
                       "Calls that run into their time limit use it up: look for them above.")
    elif grade and not grade["finished"]:
        summary.append("The grader stopped before the end, through no fault of yours: ask your instructor to rerun it.")
    summary.append(f"total: {score}/{sum(test['max_score'] for test in tests)} points")
    return {"score": score, "execution_time": round(seconds), "output": "\n".join(summary), "output_format": "text",
            "test_output_format": "text", "test_name_format": "text", "visibility": visibility(),
            "stdout_visibility": "hidden", "tests": tests}


def visibility() -> str:
    """When students see their results: AUTOGRADER_VISIBILITY if it is one of Gradescope's, else visible."""
    wanted = os.environ.get(VISIBILITY_ENV, "visible")
    return wanted if wanted in VISIBILITIES else "visible"


def budget() -> float:
    """The grade's total time, in seconds: AUTOGRADER_BUDGET_SECONDS, else ``BUDGET_SECONDS``."""
    try:
        return max(60.0, float(os.environ.get(BUDGET_ENV) or BUDGET_SECONDS))
    except ValueError:
        return BUDGET_SECONDS


def write_results(out: Path, content: dict) -> None:
    partial = out / "results.json.tmp"
    partial.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    partial.replace(out / "results.json")  # atomic: Gradescope reads the old one or the new one


def grade_lessons(files: list[Path], tmp: Path, seconds: float) -> dict:
    """The grade of the lesson files, copied into a folder of ``tmp``, student code inside the boundary."""
    method = choose_boundary()
    work = tmp / "work"
    work.mkdir()
    copy_lessons(files, work)
    print(f"student code runs {HOW[method]}", flush=True)
    log = tmp / "grade.log"
    try:
        return grade_folder(work, log, env={ENV["work_label"]: LABEL, OFFLINE_ENV: "1"}, boundary=method,
                            seconds=seconds)
    finally:
        if log.exists():
            print("the tests' own output (its end):\n" + log.read_text(encoding="utf-8", errors="replace")[-4000:])


def main() -> int:
    start = time.monotonic()
    root = Path(os.environ.get(AUTOGRADER_ROOT_ENV) or GRADESCOPE_ROOT)
    submission, out = root / "submission", root / "results"
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o755)  # student code, run as another user, can write neither in it nor over results.json
    write_results(out, results(None, UNFINISHED, [], 0))  # what Gradescope shows if it stops the grade
    problem = NO_FILES
    try:
        files = lesson_files(submission) if submission.is_dir() else []
    except Ambiguous as err:
        files, problem = [], f"not graded: {err}"
    graded = [p.relative_to(submission).as_posix() for p in files if p.name != NOTEBOOK_STATE]
    print(f"lesson files in {submission}: {', '.join(graded) or 'none'}", flush=True)
    grade, code = None, 0
    if graded:
        with tempfile.TemporaryDirectory(prefix="autograder-") as tmp:
            try:
                grade = grade_lessons(files, Path(tmp), max(10.0, budget() - (time.monotonic() - start)))
            except (api.BoundaryMissing, GradingError) as err:
                problem, code = f"not graded, through no fault of yours ({err}): tell your instructor", 1
                print(f"error: {err}", file=sys.stderr)
    content = results(grade, problem, graded, time.monotonic() - start)
    write_results(out, content)
    print(scorecard(grade["exercises"]) if grade else problem)
    print(f"results: {out / 'results.json'}: {content['score']} points")
    return code


if __name__ == "__main__":
    sys.exit(main())
