"""Progress kept across runs: every lesson and exercise, done or to do, with points.

Every grade of one's own work (``make test``, ``make watch``, a notebook's check cell) adds its exercises'
latest results to ``reports/progress.json``, so grading one lesson no longer hides the others.
``python -m tbcourse progress`` (``make progress``) prints them all on one screen.
"""
import json
import time
from pathlib import Path

from tbcourse.grading.manifest import exercises, graded_points
from tbcourse.i18n import _, ljust
from tbcourse.settings import PROGRESS


def load(path: Path = PROGRESS) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def record(results: dict[str, dict], work: Path, path: Path = PROGRESS) -> None:
    """Keep the latest result of each exercise graded (``results`` as in grade.json), for the folder ``work``."""
    kept = load(path)
    if kept.get("work") != str(work):  # another folder's progress is not this one's
        kept = {"work": str(work), "exercises": {}}
    stamp = time.strftime("%Y-%m-%d %H:%M")
    for ex, result in results.items():
        kept["exercises"][ex] = {"points": result["points"], "max": result["max"], "passed": result["passed"],
                                 "graded": stamp}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(kept, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def next_exercise(results: dict[str, dict]) -> str | None:
    """The first exercise, in course order, that has not passed."""
    return next((ex for ex, result in results.items() if not result["passed"]), None)


def report(path: Path = PROGRESS) -> str:
    """Every exercise of the course, lesson by lesson: done, to do, or not graded yet, with points."""
    kept, points = load(path), graded_points()
    graded = kept.get("exercises", {})
    lines, done, total, lesson = [], 0, 0, None
    for ex, info in exercises().items():
        if info.lesson != lesson:
            lesson = info.lesson
            lines.append(f"{lesson}")
        result = graded.get(ex)
        total += points[ex]
        if result is None:
            state = _("not graded yet")
        elif result["passed"]:
            state, done = _("done"), done + result["points"]
        else:
            state = _("to do ({points}/{max}, graded {graded})").format(**result)
        lines.append(f"  [{'x' if result and result['passed'] else ' '}] {ex}  {ljust(info.function + '()', 26)}"
                     + _("{points:>2} points").format(points=points[ex]) + f"  {state}")
    todo = next((ex for ex in exercises() if not graded.get(ex, {}).get("passed")), None)
    lines.append(_("done: {done}/{total} points").format(done=done, total=total)
                 + (_("; next: {exercise}").format(exercise=todo) if todo else _("; every exercise is done")))
    if kept.get("work"):
        lines.append(_("(graded work: {work})").format(work=kept["work"]))
    return "\n".join(lines)
