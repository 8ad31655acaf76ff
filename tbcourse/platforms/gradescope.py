"""Grade one Gradescope submission: ``run_autograder`` runs ``python -m tbcourse.platforms.gradescope``.

Gradescope's autograder specification (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
the autograder zip (``make autograder``) is unpacked into /autograder/source, the student's upload into
/autograder/submission, and what the student gets is /autograder/results/results.json. Another root laid
out the same is named by ``AUTOGRADER_ROOT`` (``make autograder-check``).

The lesson files are found anywhere in the upload (``gradebook.lesson_files``: loose files, a folder, a
whole clone; no link followed), copied into a folder of the grader's own and graded with the course's
tests. Student code runs inside bubblewrap where the container allows it, else as the unprivileged user
(``tbcourse.runner.methods.unprivileged``); ``AUTOGRADER_BOUNDARY`` names one to insist on it. The grade is
computed in this process's own folders, and only this process writes results.json: one test per
exercise, named ``01.2 displayed_pixels()``, with its points, passed or failed, and the scorecard's
reason and hint. A missing lesson, a file that does not compile or exits, an upload without a lesson
file: each costs only its exercises, and results.json still lists every exercise with its points. What
is not the student's doing (no boundary here, the grader broken) scores nothing, says so, and exits 1.
"""
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from tbcourse.grading.grade import GradingError, grade_folder, scorecard
from tbcourse.grading.gradebook import copy_lessons, lesson_files
from tbcourse.grading.manifest import exercises, graded_points
from tbcourse.grading.notebooks import STATE as NOTEBOOK_STATE
from tbcourse.runner import api
from tbcourse.settings import (AUTOGRADER_BOUNDARY_ENV, AUTOGRADER_ROOT_ENV, BOUNDARIES, ENV, GRADESCOPE_ROOT,
                               OFFLINE_ENV)

LABEL = "your submission"
NO_FILES = ("no lesson file found in your submission: upload your NN_topic.py files (or NN_topic.ipynb "
            "notebooks), the lessons/ folder, or your whole copy of the course")
HOW = {"bwrap": "inside bubblewrap", "unprivileged": "as an unprivileged user (bubblewrap cannot run here)"}


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
        tests.append({"name": info.title, "score": result["points"], "max_score": points[ex],
                      "status": "passed" if result["passed"] else "failed",
                      "output": "passed" if result["passed"] else "\n".join(said)})
    score = sum(test["score"] for test in tests)
    summary = [f"Graded: {', '.join(graded)}" if grade else problem, *(grade or {}).get("synced", [])]
    if grade and not grade["finished"]:
        summary.append("The grader stopped before the end, through no fault of yours: ask your instructor to rerun it.")
    summary.append(f"total: {score}/{sum(test['max_score'] for test in tests)} points")
    return {"score": score, "execution_time": round(seconds), "output": "\n".join(summary), "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}


def grade_lessons(files: list[Path], tmp: Path) -> dict:
    """The grade of the lesson files, copied into a folder of ``tmp``, student code inside the boundary."""
    method = choose_boundary()
    work = tmp / "work"
    work.mkdir()
    copy_lessons(files, work)
    print(f"student code runs {HOW[method]}", flush=True)
    log = tmp / "grade.log"
    try:
        return grade_folder(work, log, env={ENV["work_label"]: LABEL, OFFLINE_ENV: "1"}, boundary=method)
    finally:
        if log.exists():
            print("the tests' own output (its end):\n" + log.read_text(encoding="utf-8", errors="replace")[-4000:])


def main() -> int:
    start = time.monotonic()
    root = Path(os.environ.get(AUTOGRADER_ROOT_ENV) or GRADESCOPE_ROOT)
    submission, out = root / "submission", root / "results"
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o755)  # student code, run as another user, can write neither in it nor over results.json
    files = lesson_files(submission) if submission.is_dir() else []
    graded = [p.relative_to(submission).as_posix() for p in files if p.name != NOTEBOOK_STATE]
    print(f"lesson files in {submission}: {', '.join(graded) or 'none'}", flush=True)
    grade, problem, code = None, NO_FILES, 0
    if graded:
        with tempfile.TemporaryDirectory(prefix="autograder-") as tmp:
            try:
                grade = grade_lessons(files, Path(tmp))
            except (api.BoundaryMissing, GradingError) as err:
                problem, code = f"not graded, through no fault of yours ({err}): tell your instructor", 1
                print(f"error: {err}", file=sys.stderr)
    content = results(grade, problem, graded, time.monotonic() - start)
    partial = out / "results.json.tmp"
    partial.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    partial.replace(out / "results.json")
    print(scorecard(grade["exercises"]) if grade else problem)
    print(f"results: {out / 'results.json'}: {content['score']} points")
    return code


if __name__ == "__main__":
    sys.exit(main())
