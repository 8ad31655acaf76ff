"""Grade a folder of lesson files: run the graded tests, print the scorecard, write reports/grade.json.

    python -m tbcourse.grading.grade [--work lessons] [--lesson 01] [--report reports/grade.json]

The public checks (tests/graded/) run, and the hidden ones (tests/hidden/) where they are: in the instructor's
tree and the autograder, never in a student release, whose scorecard says instead how many hidden checks
each exercise has, and that they run when the instructor grades. The tests run in a child pytest process that records each test (``tbcourse.grading.plugin``); the
verdict comes from those records, never from the child's exit code. Student code runs in processes
of its own below that (``tbcourse.runner``), so what it does costs the calls that did it.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from tbcourse.grading import progress
from tbcourse.grading.checker import Checker
from tbcourse.grading.manifest import exercises, hidden_checks
from tbcourse.grading.notebooks import sync
from tbcourse.i18n import LANGUAGES, _, ljust, ngettext, use, width
from tbcourse.runner import api
from tbcourse.settings import (ENV, GRADED_TESTS, PROGRESS, REPORTS, ROOT, START_METHODS, Settings, graded_test_files,
                               hidden_test_files)

CALL_SECONDS = Settings.call_seconds  # one call of student code (tbcourse.runner)
ALL_TESTS_SECONDS = 1800
# With pytest_options: no pytest plugin that happens to be installed (pytest-randomly, xdist, anyio's) changes
# how the graded tests run, on a student's laptop or in a class.
PYTEST_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}


class GradingError(RuntimeError):
    """The graded tests themselves could not run (not the student's fault)."""


@dataclass
class Result:
    lesson: str
    function: str
    points: int
    max: int
    passed: bool
    message: str
    hint: str  # the hint shown: the first level, for the first failing exercise of its lesson only; else ""
    hidden: int = 0  # hidden checks graded here (the instructor's grade)
    hidden_max: int = 0  # the points of those hidden checks, and how many of them were earned
    hidden_points: int = 0
    hidden_later: int = 0  # hidden checks not run here (a student's own grade): they run when the instructor grades
    hidden_later_points: int = 0


def test_files(lesson: str | None) -> list[Path]:
    """The public checks of ``lesson`` (or of all), and the hidden ones where they are."""
    files = graded_test_files(lesson) + hidden_test_files(lesson)
    if not files:
        raise GradingError(_("no graded tests for lesson {lesson!r} in {folder}").format(
            lesson=lesson, folder=GRADED_TESTS.relative_to(ROOT)))
    return files


def run_tests(work: Path, targets: list[str], log, call_seconds: float = CALL_SECONDS, env: dict | None = None,
              boundary: str | None = None, checker: Checker | None = None,
              seconds: float = ALL_TESTS_SECONDS) -> tuple[dict, bool]:
    """(nodeid -> {"exercise", "points", "passed", "message"} for every graded test in ``targets``, whether
    the grading process finished). The public checks (tests/graded/) run, and the hidden ones (tests/hidden/) where
    they are. The tests run in a child pytest process, or in the warm ``checker`` of a
    class. With a ``boundary``, student code runs inside bubblewrap ("bwrap", ``tbcourse.runner.methods.bwrap``)
    or as an unprivileged user ("unprivileged", ``tbcourse.runner.methods.unprivileged``): it may read the work
    folder and what each call is handed of the checks' temporary folder, and write only a scratch one. After
    ``seconds`` the grading process is ended: the tests that ended keep their verdicts, the others fail saying so."""
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        record_path, scratch, checks = Path(tmp, "record.jsonl"), Path(tmp, "scratch"), Path(tmp, "checks")
        scratch.mkdir()
        checks.mkdir()
        settings = Settings(work=work, record=record_path, call_seconds=call_seconds, checks_tmp=checks,
                            **(dict(start_method=boundary, scratch=scratch) if boundary else {}))
        job_env = {**(env or {}), **settings.env(), **PYTEST_ENV}
        args = [*targets, *pytest_options(call_seconds, checks)]
        if checker is not None:
            code = checker.run(args, job_env, Path(log.name), seconds)
        else:
            try:
                code = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, env={**os.environ, **job_env},
                                      stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      timeout=seconds).returncode
            except subprocess.TimeoutExpired:
                code = None
        finished = code in (0, 1)  # all passed, or some failed: anything else is the grader's end
        death = (_("the grading process ended early (exit code {code}); see {log}").format(code=code, log=log.name)
                 if code is not None else _("grading stopped after {seconds} s, or its process died; see {log}").format(
                     seconds=f"{seconds:.0f}", log=log.name))
        return read_record(record_path, finished, death, log.name)


def pytest_options(call_seconds: float, checks: Path) -> list[str]:
    """How the graded tests run, in a child process (make test) or in a warm one (make watch): the grading
    plugin and pytest-timeout (with ``PYTEST_ENV``, no other), the course's own configuration, temporary folders
    under ``checks``."""
    return ["-p", "tbcourse.grading.plugin", "-p", "timeout", "-p", "no:cacheprovider",
            "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT), "-q", "-rN",
            f"--timeout={max(120, 4 * call_seconds)}", f"--basetemp={checks / 'pytest'}"]


def read_record(record_path: Path, finished: bool, death: str, log_name: str) -> tuple[dict, bool]:
    """The plugin's record of one run: (tests, whether every test ended and the run ``finished``); a test
    that never ended failed with ``death``."""
    lines = record_path.read_text(encoding="utf-8").splitlines() if record_path.exists() else []
    tests = {}
    for line in lines:
        rec = json.loads(line)
        if rec["event"] == "collected":
            tests[rec["test"]] = {"exercise": rec["exercise"], "points": rec["points"], "hidden": rec.get("hidden", False)}
        elif rec["event"] == "result":
            tests[rec["test"]].update(passed=rec["passed"], message=rec["message"])
    if not tests:
        raise GradingError(_("the graded tests could not be collected; see {log}").format(log=log_name))
    finished &= all("passed" in rec for rec in tests.values())
    for rec in tests.values():  # student code runs in processes of its own, so this is the grader's failure
        rec.setdefault("passed", False)
        rec.setdefault("message", death)
    return tests, finished


def score(tests: dict) -> dict[str, Result]:
    """Per exercise: a test function earns its points when every one of its cases passed. The first failing
    exercise of each lesson gets its first hint; the rest wait their turn (``python -m tbcourse hint``)."""
    manifest, functions = exercises(), {}
    for nodeid, rec in tests.items():
        key = (rec["exercise"], re.sub(r"\[.*\]$", "", nodeid))
        entry = functions.setdefault(key, {"points": rec["points"], "passed": True, "message": "",
                                           "hidden": rec.get("hidden", False)})
        if not rec["passed"]:
            entry["passed"] = False
            entry["message"] = entry["message"] or rec["message"]
    results = {}
    for (exercise, _function), entry in sorted(functions.items()):
        info = manifest[exercise]
        res = results.setdefault(exercise, Result(info.lesson, info.function, 0, 0, True, "", ""))
        res.max += entry["points"]
        res.points += entry["points"] if entry["passed"] else 0
        res.passed &= entry["passed"]
        res.message = res.message or entry["message"]
        res.hidden += entry["hidden"]
        res.hidden_max += entry["points"] if entry["hidden"] else 0
        res.hidden_points += entry["points"] if entry["hidden"] and entry["passed"] else 0
    for exercise, entry in ({} if hidden_test_files() else hidden_checks()).items():
        if exercise in results:  # a student release has no hidden checks, only their summary: say what waits
            results[exercise].hidden_later, results[exercise].hidden_later_points = entry["checks"], entry["points"]
    hinted = set()
    for exercise, res in results.items():
        if not res.passed and res.lesson not in hinted:
            res.hint = _(manifest[exercise].hints[0])
            hinted.add(res.lesson)
    return results


def scorecard(results: dict[str, dict]) -> str:
    """The table a student reads: one row per exercise, the reason under each failure, and the hint
    ``score`` chose (one per lesson) with the command that gives the next."""
    header = (_("lesson"), _("exercise"), _("function"), _("points"), _("result"))
    rows = [(r["lesson"], ex, r["function"] + "()", f"{r['points']}/{r['max']}",
             _("pass") if r["passed"] else _("FAIL")) for ex, r in results.items()]
    widths = [max(width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    widths[-1] = max(widths[-1], 2 + max((width(row[-1]) for row in rows), default=0))  # a gap before the reason
    indent = " " * (sum(widths) + 2 * len(widths))
    lines = ["  ".join(ljust(cell, w) for cell, w in zip(header, widths)), "-" * (len(indent) + 40)]
    for row, (ex, result) in zip(rows, results.items()):
        lines.append("  ".join(ljust(cell, w) for cell, w in zip(row, widths)) + result["message"])
        if result["hint"]:
            lines.append(indent + _("hint: {hint} (step by step: python -m tbcourse hint {exercise})").format(
                hint=result["hint"], exercise=ex))
        if result.get("hidden_later"):
            lines.append(indent + _("+ {checks} ({points}), run when your instructor grades").format(
                checks=ngettext("{n} hidden check", "{n} hidden checks", result["hidden_later"]).format(
                    n=result["hidden_later"]),
                points=ngettext("{n} point", "{n} points", result["hidden_later_points"]).format(
                    n=result["hidden_later_points"])))
    total, best = sum(r["points"] for r in results.values()), sum(r["max"] for r in results.values())
    later = sum(r.get("hidden_later_points", 0) for r in results.values())
    lines += ["-" * (len(indent) + 40), _("total: {total}/{best} points").format(total=total, best=best)
              + (ngettext(", and {n} point of hidden checks when your instructor grades",
                          ", and {n} points of hidden checks when your instructor grades", later).format(n=later)
                 if later else "")]
    return "\n".join(lines)


def grade_folder(work: Path, log: Path, lesson: str | None = None, call_seconds: float = CALL_SECONDS,
                 env: dict | None = None, boundary: str | None = None, checker: Checker | None = None,
                 seconds: float = ALL_TESTS_SECONDS) -> dict:
    """Grade ``work`` (the tests' own output goes to ``log``); the content of ``reports/grade.json``.
    ``finished`` is False when the grading process itself died: such a grade is not to be kept."""
    synced = sync(work)  # a lesson edited as a notebook is graded on the notebook's code
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as out:
        tests, finished = run_tests(work, [str(f) for f in test_files(lesson)], out, call_seconds, env, boundary,
                                    checker, seconds)
    results = score(tests)
    return {"work": str(work), "synced": synced, "finished": finished, "total": sum(r.points for r in results.values()),
            "max": sum(r.max for r in results.values()), "exercises": {ex: asdict(r) for ex, r in results.items()}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Grade lesson files against the course's graded tests.")
    parser.add_argument("--work", default=str(Settings.work), help="folder holding the lesson files")
    parser.add_argument("--lesson", help="grade one lesson only, e.g. 01")
    parser.add_argument("--report", default=str(REPORTS / "grade.json"))
    parser.add_argument("--timeout", type=float, default=CALL_SECONDS, help="seconds one call of student code may run")
    parser.add_argument("--start-method", choices=START_METHODS[:2],
                        help="how student code is started: fork (Linux's default) or spawn (elsewhere)")
    parser.add_argument("--boundary", action="store_true", help="run student code inside bubblewrap, as make grade does")
    parser.add_argument("--lang", choices=LANGUAGES, help="the language of the scorecard (default: COURSE_LANG, "
                        "else the system's)")
    args = parser.parse_args(argv)
    if args.lang:
        use(args.lang)
    work, report = Path(args.work).resolve(), Path(args.report)
    if not work.is_dir():
        print(_("error: {path} is not a folder").format(path=work), file=sys.stderr)
        return 2
    if args.boundary:
        try:
            api.check("bwrap")
        except api.BoundaryMissing as err:
            print(_("error: {reason}").format(reason=err), file=sys.stderr)
            return 2
    env = {ENV["start_method"]: args.start_method} if args.start_method else {}
    how = _("student code runs inside bubblewrap") if args.boundary else \
        _("student code runs in processes of its own ({method}), not in a sandbox: fine for your own work").format(
            method=args.start_method or Settings().method)
    print(_("grading {work} ({how}) ...").format(work=work, how=how), flush=True)
    log = report.with_suffix(".log")
    try:
        content = grade_folder(work, log, args.lesson, args.timeout, env, "bwrap" if args.boundary else None)
    except GradingError as err:
        print(_("error: {reason}").format(reason=err), file=sys.stderr)
        return 2
    report.write_text(json.dumps(content, indent=2) + "\n")
    progress.record(content["exercises"], work, report.parent / PROGRESS.name)  # make progress reads it
    print("".join(f"{line}\n" for line in content["synced"]) + scorecard(content["exercises"]))
    print(_("report: {report}; the tests' own output: {log}").format(report=report, log=log))
    return 0 if content["total"] == content["max"] else 1


if __name__ == "__main__":
    sys.exit(main())
