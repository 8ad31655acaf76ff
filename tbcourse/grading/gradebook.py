"""`make grade SUBMISSIONS=DIR`: grade a whole class into reports/gradebook.csv, lms.csv, class.html, feedback/.

Each subfolder of DIR is one student, named by the folder: a clone of the course, the student's lesson
files, or a folder holding either (``intake.lesson_files`` finds them, bounded, however a download renamed
them); a zip per student and a flat LMS download are taken too (``tbcourse.grading.delivery``). Only the
lesson files (``NN_topic.py``, and notebooks paired with them) are copied out and graded with the course's
own tests; a submission's tests, conftest.py, pytest.ini or Makefile are never used, and no symbolic link in
it is followed. Student code runs inside bubblewrap (``tbcourse.runner.methods.bwrap``) unless ``--trusted``
says the code is trusted. ``--jobs`` students are graded at a time (by default one per core, as many as the
free memory holds), each by a warm checking process (``tbcourse.grading.checker``) with a worker of its own
for its code. Every student's result is kept in ``reports/grades/<student>.json`` with a fingerprint of the
files graded and of the course's tests, so an interrupted run loses nothing and a rerun regrades only what
changed. A student whose grading fails, for whatever reason, gets a row saying why (not kept, so a rerun
tries again), and the rest of the class is graded. The gradebook, the LMS export (``tbcourse.grading.book``)
and the class report (``tbcourse.grading.class_report``) are written at the end.
"""
import argparse
import hashlib
import json
import os
import queue
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tbcourse.grading import book
from tbcourse.grading.checker import Checker
from tbcourse.grading.class_report import summary, write_report
from tbcourse.grading.delivery import delivered
from tbcourse.grading.grade import CALL_SECONDS, GradingError, grade_folder, scorecard
from tbcourse.grading.intake import copy_lessons, lesson_files, read_regular, shown
from tbcourse.grading.notebooks import STATE as NOTEBOOK_STATE
from tbcourse.i18n import LANGUAGES, _, language, use
from tbcourse.runner import api
from tbcourse.settings import ENV, FACES, GRADED_TESTS, HIDDEN_TESTS, KEYS, MANIFEST, PHOTO, REPORTS, ROOT

ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # a student per core
NOT_GRADING = {"book.py", "class_report.py", "delivery.py", "labels.py"}  # what is written of a grade, not the grade
CHECKER_MB = 1600  # a checking process and its student's workers at their peak (one grade: 1.6 GB, CUDA torch)


def grading_inputs() -> list[Path]:
    """Every file of the course that a grade depends on: the graded tests, public and hidden, the code they and the grader
    run (the settings, the kit lessons import, the grading package), the manifest, and the data and
    answer keys the tests read. Authoring tools, docs, the course's own checks and what only writes grades
    out (``NOT_GRADING``: rewording the class report regrades nobody) are not among them."""
    package = ROOT / "tbcourse"
    code = [package / "__init__.py", package / "settings.py", *sorted((package / "kit").rglob("*.py")),
            *sorted(p for p in (package / "grading").rglob("*.py") if p.name not in NOT_GRADING)]
    data = [p for folder in (FACES, PHOTO.parent, KEYS) for p in sorted(folder.rglob("*")) if p.is_file()]
    tests = [p for folder in (GRADED_TESTS, HIDDEN_TESTS) for p in sorted(folder.rglob("*"))
             if p.is_file() and "__pycache__" not in p.parts]
    return [*tests, *code, MANIFEST, *data]


def fingerprint(files: list[Path], lesson: str | None, boundary: str | None) -> str:
    """Changes when a graded file or anything the course's grading depends on changes, and with the boundary
    student code ran in: a grade made with code trusted is not taken for one made inside bubblewrap, and with the
    language its messages are in (``--lang``)."""
    digest = hashlib.sha256(f"lesson {lesson} boundary {boundary} language {language()}".encode())
    for path in [*files, *grading_inputs()]:
        digest.update(path.relative_to(path.parent if path in files else ROOT).as_posix().encode() + b"\0"
                      + read_regular(path) + b"\0")
    return digest.hexdigest()


def grade_student(submission: Path, reports: Path, lesson: str | None, call_seconds: float,
                  boundary: str | None = "bwrap", checker: Checker | None = None) -> dict:
    """The student's record, from the cache when nothing changed since it was made; graded in ``checker``'s
    warm process, or in a process of its own."""
    files = lesson_files(submission)
    cache = reports / "grades" / f"{submission.name}.json"
    stamp = fingerprint(files, lesson, boundary)
    if cache.exists() and json.loads(cache.read_text()).get("fingerprint") == stamp:
        return json.loads(cache.read_text())
    record = {"total": 0, "max": None, "exercises": {}, "status": "no lesson files found"}
    if any(p.name != NOTEBOOK_STATE for p in files):
        with tempfile.TemporaryDirectory() as tmp:
            copy_lessons(files, Path(tmp))
            try:
                label = {**ONE_THREAD, ENV["work_label"]: f"{shown(submission.name)}'s work"}
                record = grade_folder(Path(tmp), reports / "grades" / f"{submission.name}.log", lesson,
                                      call_seconds, label, boundary, checker)
            except GradingError as err:  # the course's fault, not the student's: not kept, so a rerun retries
                return {**record, "student": submission.name, "status": f"not graded: {err}"}
        if not record.pop("finished"):  # the grading process died: shown, but not kept, so a rerun retries
            return {**record, "student": submission.name, "files": [p.name for p in files],
                    "status": "not graded: the grading process died; run make grade again"}
        record["status"] = "graded"
    record.update(student=submission.name, fingerprint=stamp, files=[p.name for p in files])
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp_cache = cache.with_suffix(".tmp")
    tmp_cache.write_text(json.dumps(record, indent=2) + "\n")
    tmp_cache.replace(cache)  # atomic: an interrupted run leaves the old record or the new one
    write_feedback(record, reports / "feedback" / f"{submission.name}.md")
    return record


def not_graded(student: str, err: BaseException) -> dict:
    """The record of a student whose grading failed, whatever the reason: a row that says why, never cached,
    so that a rerun tries again; the rest of the class is graded."""
    reason = shown(f"{type(err).__name__}: {err}")[:300]
    return {"student": student, "total": 0, "max": None, "exercises": {}, "files": [],
            "status": f"not graded: {reason}"}


def write_feedback(record: dict, path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    body = scorecard(record["exercises"]) if record["exercises"] else record["status"]
    files = ", ".join(map(shown, record["files"])) or _("none")
    path.write_text(_("# Feedback for {student}").format(student=shown(record["student"])) + "\n\n"
                    + _("Graded files: {files}").format(files=files) + f"\n\n```\n{body}\n```\n", encoding="utf-8")


def default_jobs() -> int:
    """Students graded at once: one per core, as many as the memory available holds checkers (``CHECKER_MB``)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, available_mb() // CHECKER_MB))


def available_mb() -> int:
    """Memory available to new processes, in MB (Linux's MemAvailable, else all the memory)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):
        return CHECKER_MB * 2


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Grade every student in SUBMISSIONS.")
    parser.add_argument("submissions", type=Path,
                        help="a folder per student, a zip per student, or a flat download of LMS-renamed files")
    parser.add_argument("--reports", type=Path, default=REPORTS)
    parser.add_argument("--lesson", help="grade one lesson only, e.g. 01")
    parser.add_argument("--jobs", type=int, default=0,
                        help=f"students graded at once (default: one per core, {CHECKER_MB} MB of free memory each)")
    parser.add_argument("--timeout", type=float, default=CALL_SECONDS, help="seconds one call of student code may run")
    parser.add_argument("--trusted", action="store_true",
                        help="run student code without bubblewrap: only for code you trust (your own, a test class)")
    parser.add_argument("--roster", type=Path, help="a CSV of id,name,folder: joined to the gradebook")
    parser.add_argument("--overrides", type=Path,
                        help="a CSV of student,exercise,points,reason (exercise NN.k or total): read, never written")
    parser.add_argument("--lang", choices=LANGUAGES,
                        help="the language of the class report, the feedback and the messages (default: COURSE_LANG, "
                             "else the system's)")
    args = parser.parse_args(argv)
    if args.lang:
        use(args.lang)  # the checkers started from here inherit it: the scorecards in the feedback speak it too
    if not args.trusted:
        try:
            api.check("bwrap")
        except api.BoundaryMissing as err:
            print(f"error: {err}\n(or, for code you trust, make grade TRUSTED=1)", file=sys.stderr)
            return 2
    try:
        roster, overrides = book.read_roster(args.roster), book.read_overrides(args.overrides)
    except book.BadInput as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="course-intake-") as unpacked:
        intake = delivered(args.submissions, Path(unpacked))
        if not intake.students and not intake.problems:
            print(_("error: no student folders, zips or lesson files in {folder}").format(
                folder=shown(args.submissions)), file=sys.stderr)
            return 2
        for problem in intake.problems:
            print(_("intake: {problem}").format(problem=problem), flush=True)
        records = grade_class(intake.students, args, roster, overrides)
    table = book.write_all(records, args.reports, roster, overrides, intake.problems)
    write_report(table, args.reports / "class.html")
    print(summary(table))
    print(_("gradebook: {gradebook}; LMS export: {lms}; class report: {report}; feedback: {feedback}/").format(
        gradebook=args.reports / "gradebook.csv", lms=args.reports / "lms.csv", report=args.reports / "class.html",
        feedback=args.reports / "feedback"))
    return 0


def grade_class(students: list[Path], args, roster: dict, overrides: list) -> dict[str, dict]:
    """Every student's record, ``args.jobs`` at a time in warm checkers; a student whose grading fails for any
    reason gets a record saying why, and the others are graded."""
    jobs = args.jobs or default_jobs()
    print(_("grading {count} students, {jobs} at a time").format(count=len(students), jobs=jobs), flush=True)
    records, free = {}, queue.Queue()
    for _unused in range(jobs):  # a warm checking process for each student graded at once
        free.put(Checker(ONE_THREAD))

    def grade(student: Path) -> dict:
        checker = free.get()
        try:
            return grade_student(student, args.reports, args.lesson, args.timeout,
                                 None if args.trusted else "bwrap", checker)
        except Exception as err:  # whatever one submission does, the class goes on
            return not_graded(student.name, err)
        finally:
            free.put(checker)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        running = {pool.submit(grade, s): s for s in students}
        for n, job in enumerate(as_completed(running), start=1):
            rec = records[running[job].name] = job.result()
            book.write_all(records, args.reports, roster, overrides)  # an interrupted run still leaves a gradebook
            print(f"[{n}/{len(students)}] {shown(running[job].name)}: {rec['total']}/{rec['max'] or '-'} "
                  f"({shown(rec['status'])})", flush=True)
    while not free.empty():
        free.get().close()
    return records


if __name__ == "__main__":
    sys.exit(main())
