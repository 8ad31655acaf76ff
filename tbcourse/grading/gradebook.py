"""`make grade SUBMISSIONS=DIR`: grade a whole class into reports/gradebook.csv and reports/feedback/.

Each subfolder of DIR is one student, named by the folder: a clone of the course, the student's lesson
files, or a folder holding either (``lesson_files`` finds them). Only the lesson files (``NN_topic.py``, and
notebooks paired with them) are copied out and graded with the course's own tests; a submission's tests,
conftest.py, pytest.ini or Makefile are never used, and no symbolic link in it is followed. Student code
runs inside bubblewrap (``tbcourse.runner.methods.bwrap``) unless ``--trusted`` says the code is trusted. Two
students are graded at a time, each by one of two warm checking processes (``tbcourse.grading.checker``),
with a worker of its own for its code. Every student's result is kept in ``reports/grades/<student>.json``
with a fingerprint of the files graded and of the course's tests, so an interrupted run loses nothing and
a rerun regrades only what changed.
"""
import argparse
import csv
import hashlib
import json
import os
import queue
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tbcourse.grading.checker import Checker
from tbcourse.grading.grade import CALL_SECONDS, GradingError, grade_folder, scorecard
from tbcourse.grading.manifest import exercises
from tbcourse.grading.notebooks import STATE as NOTEBOOK_STATE
from tbcourse.runner import api
from tbcourse.settings import ENV, FACES, GRADED_TESTS, KEYS, MANIFEST, PHOTO, REPORTS, ROOT, lesson_names

ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # two students share two cores


def lesson_files(submission: Path) -> list[Path]:
    """The student's lesson files, wherever they are in ``submission``: loose, in a folder, or in a whole
    clone. Each lesson's script and notebook come from one folder: a ``lessons/`` folder first, else the
    one nearest the top. With them, the notebook-sync record of each such folder. Hidden folders are
    passed over, and no symbolic link is followed."""
    names, chosen = set(lesson_names()), {}
    for top, dirs, files in os.walk(submission):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        where = Path(top).relative_to(submission)
        rank = (where.name != "lessons", len(where.parts), where.as_posix())
        for name in files:
            path = Path(top, name)
            if path.stem in names and path.suffix in (".py", ".ipynb") and _regular(path):
                chosen[path.stem] = min(chosen.get(path.stem, (rank, top)), (rank, top))
    folders = {Path(top) for _, top in chosen.values()}
    found = [Path(top, lesson + suffix) for lesson, (_, top) in chosen.items() for suffix in (".py", ".ipynb")]
    return sorted(p for p in [*found, *(folder / NOTEBOOK_STATE for folder in folders)] if _regular(p))


def _regular(path: Path) -> bool:
    return not path.is_symlink() and path.is_file()


def read_regular(source: Path, limit: int = 50 * 2**20) -> bytes:
    """The bytes of a regular file, refusing a symbolic link even if one appeared since it was listed."""
    fd = os.open(source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as src:
        return src.read(limit)


def copy_lessons(files: list[Path], dest: Path) -> None:
    """Copy what ``lesson_files`` found into the one folder ``dest``. The notebook-sync records of the folders
    it came from become one, each lesson's entry taken from the folder its files came from."""
    origin, state = {p.stem: p.parent for p in files if p.name != NOTEBOOK_STATE}, {}
    for path in files:
        if path.name != NOTEBOOK_STATE:
            with open(dest / path.name, "xb") as out:
                out.write(read_regular(path))
            continue
        try:
            record = json.loads(read_regular(path))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict):
            state.update((lesson, sha) for lesson, sha in record.items() if origin.get(lesson) == path.parent)
    if state:
        (dest / NOTEBOOK_STATE).write_text(json.dumps(state, indent=1), encoding="utf-8")


def grading_inputs() -> list[Path]:
    """Every file of the course that a grade depends on: the graded tests, the code they and the grader
    run (the settings, the kit lessons import, the grading package), the manifest, and the data and
    answer keys the tests read. Authoring tools, docs and the course's own checks are not among them."""
    package = ROOT / "tbcourse"
    code = [package / "__init__.py", package / "settings.py", *sorted((package / "kit").rglob("*.py")),
            *sorted((package / "grading").rglob("*.py"))]
    data = [p for folder in (FACES, PHOTO.parent, KEYS) for p in sorted(folder.rglob("*")) if p.is_file()]
    tests = [p for p in sorted(GRADED_TESTS.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    return [*tests, *code, MANIFEST, *data]


def fingerprint(files: list[Path], lesson: str | None, boundary: str | None) -> str:
    """Changes when a graded file or anything the course's grading depends on changes, and with the boundary
    student code ran in: a grade made with code trusted is not taken for one made inside bubblewrap."""
    digest = hashlib.sha256(f"lesson {lesson} boundary {boundary}".encode())
    for path in [*files, *grading_inputs()]:
        digest.update(path.relative_to(path.parent if path in files else ROOT).as_posix().encode() + b"\0"
                      + path.read_bytes() + b"\0")
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
                record = grade_folder(Path(tmp), reports / "grades" / f"{submission.name}.log", lesson,
                                      call_seconds, {**ONE_THREAD, ENV["work_label"]: f"{submission.name}'s work"},
                                      boundary, checker)
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


def write_feedback(record: dict, path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    body = scorecard(record["exercises"]) if record["exercises"] else record["status"]
    path.write_text(f"# Feedback for {record['student']}\n\nGraded files: {', '.join(record['files']) or 'none'}\n\n"
                    f"```\n{body}\n```\n")


def cell(text: str) -> str:
    """A text cell that no spreadsheet runs as a formula (a leading = + - @ tab or return is quoted)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_gradebook(records: dict[str, dict], path: Path):
    """One row per student, one column per exercise; rewritten whole and atomically."""
    ids = sorted({ex for rec in records.values() for ex in rec["exercises"]} or exercises())
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as out:
        table = csv.writer(out)
        table.writerow(["student", *ids, "total", "max", "status"])
        for name in sorted(records):
            rec = records[name]
            points = [rec["exercises"].get(ex, {}).get("points", 0) for ex in ids]
            table.writerow([cell(name), *points, rec["total"], rec["max"] or "", cell(rec["status"])])
    tmp.replace(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Grade every student folder in SUBMISSIONS.")
    parser.add_argument("submissions", type=Path)
    parser.add_argument("--reports", type=Path, default=REPORTS)
    parser.add_argument("--lesson", help="grade one lesson only, e.g. 01")
    parser.add_argument("--jobs", type=int, default=2, help="students graded at once")
    parser.add_argument("--timeout", type=float, default=CALL_SECONDS, help="seconds one call of student code may run")
    parser.add_argument("--trusted", action="store_true",
                        help="run student code without bubblewrap: only for code you trust (your own, a test class)")
    args = parser.parse_args(argv)
    if not args.trusted:
        try:
            api.check("bwrap")
        except api.BoundaryMissing as err:
            print(f"error: {err}\n(or, for code you trust, make grade TRUSTED=1)", file=sys.stderr)
            return 2
    students = sorted(p for p in args.submissions.iterdir()
                      if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    if not students:
        print(f"error: no student folders in {args.submissions}", file=sys.stderr)
        return 2
    records, free = {}, queue.Queue()
    for _ in range(args.jobs):  # a warm checking process for each student graded at once
        free.put(Checker(ONE_THREAD))

    def grade(student: Path) -> dict:
        checker = free.get()
        try:
            return grade_student(student, args.reports, args.lesson, args.timeout, None if args.trusted else "bwrap",
                                 checker)
        finally:
            free.put(checker)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        jobs = {pool.submit(grade, s): s for s in students}
        for n, job in enumerate(as_completed(jobs), start=1):
            rec = records[jobs[job].name] = job.result()
            write_gradebook(records, args.reports / "gradebook.csv")
            print(f"[{n}/{len(students)}] {jobs[job].name}: {rec['total']}/{rec['max'] or '-'} ({rec['status']})",
                  flush=True)
    while not free.empty():
        free.get().close()
    print(f"gradebook: {args.reports / 'gradebook.csv'}; feedback: {args.reports / 'feedback'}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
