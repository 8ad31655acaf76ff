"""`make watch`: one warm process that regrades a lesson each time it is saved.

    python -m tbcourse watch [--lesson 01] [--work lessons]

The process imports the libraries once, then watches the work folder's lesson scripts and notebooks with
watchfiles. On each save it syncs an edited notebook into its script, runs that lesson's graded tests in
this process (pytest, the same plugin and the same sandbox as ``make test``: student code still runs in
processes of its own) and prints the lesson's scorecard, ending with its ``total:`` line, and the next
exercise to do. Progress is kept in reports/progress.json. Ctrl-C stops it and leaves no process behind.
"""
import hashlib
import signal
import sys
import tempfile
import time
from pathlib import Path

import watchfiles

from tbcourse.grading import grade, progress
from tbcourse.grading.checker import run_in_process
from tbcourse.grading.notebooks import sync
from tbcourse.i18n import _
from tbcourse.settings import LESSON_NAME, REPORTS, Settings, graded_test_files


def grade_lesson(work: Path, lesson: str, log: Path, settings: Settings) -> dict:
    """The results of one lesson (as in grade.json), its graded tests run in this process."""
    with tempfile.TemporaryDirectory(prefix="course-watch-") as tmp:
        record, checks = Path(tmp, "record.jsonl"), Path(tmp, "checks")
        checks.mkdir()
        env = {**Settings(work=work, record=record, call_seconds=settings.call_seconds,
                          start_method=settings.start_method, checks_tmp=checks).env(), **grade.PYTEST_ENV}
        targets = [str(path) for path in graded_test_files(lesson)]
        log.write_text("", encoding="utf-8")  # the last grade's output only
        code = run_in_process([*targets, *grade.pytest_options(settings.call_seconds, checks)], env, log)
        tests, _finished = grade.read_record(
            record, code in (0, 1),
            _("the tests stopped (pytest exit code {code}); see {log}").format(code=code, log=log), log.name)
    return {ex: vars(result) for ex, result in grade.score(tests).items()}


def changed_lessons(changes, work: Path, seen: dict) -> list[str]:
    """The lessons whose script or notebook content changed since last graded (a sync that rewrites the
    script, or an editor that saves twice, does not grade twice)."""
    lessons = []
    for _change, name in changes:
        path = Path(name)
        if path.parent != work or path.suffix not in (".py", ".ipynb") or not LESSON_NAME.match(path.stem):
            continue
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:  # deleted, or being replaced
            continue
        if seen.get(path.name) != digest:
            seen[path.name] = digest
            if path.stem not in lessons:
                lessons.append(path.stem)
    return sorted(lessons)


def regrade(work: Path, lesson: str, settings: Settings) -> float:
    """Sync, grade and print one lesson; returns the seconds it took."""
    start = time.perf_counter()
    for line in sync(work):
        print(line)
    REPORTS.mkdir(parents=True, exist_ok=True)
    results = grade_lesson(work, lesson, REPORTS / "watch.log", settings)
    # Ctrl-C must stop the watch: once, under load, a grade left SIGINT ignored in this process (the signature
    # of C's system(), which ignores it while it runs); Python's own handler is put back after every grade.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    progress.record(results, work)
    seconds = time.perf_counter() - start
    print("\n" + _("{time} {lesson}.py graded in {seconds:.1f} s").format(time=time.strftime('%H:%M:%S'), lesson=lesson,
                                                                         seconds=seconds))
    print(grade.scorecard(results))
    todo = progress.next_exercise(results)
    print(_("next: {exercise} {function}()").format(exercise=todo, function=results[todo]["function"]) if todo else
          _("{lesson}: every exercise passes. On to the next lesson!").format(lesson=lesson), flush=True)
    return seconds


def watch(work: Path, lesson: str | None, settings: Settings) -> None:
    work = work.resolve()
    seen = {}
    if lesson:
        name = next((n for n in (p.stem.removeprefix("test_") for p in graded_test_files(lesson))), None)
        if name is None:
            sys.exit(_("error: no lesson {lesson}").format(lesson=lesson))
        changed_lessons([(None, str(work / f"{name}.py"))], work, seen)
        regrade(work, name, settings)
    announced = False
    for changes in watchfiles.watch(work, debounce=50, step=20, recursive=False,
                                    rust_timeout=500, yield_on_timeout=True):
        if not announced:  # the first (empty) yield: the watcher is live, so no save from now on is missed
            print((_("watching {work} for saved lessons ({lesson}); Ctrl-C to stop") if lesson else
                   _("watching {work} for saved lessons; Ctrl-C to stop")).format(work=work, lesson=lesson), flush=True)
            announced = True
        for name in changed_lessons(changes, work, seen):
            if lesson is None or name[:2] == lesson[:2]:
                regrade(work, name, settings)


def main(work: Path, lesson: str | None, settings: Settings) -> int:
    try:
        watch(work, lesson, settings)
    except KeyboardInterrupt:
        print("\n" + _("stopped watching"))
    return 0
