"""The course's commands, the same on Windows, macOS and Linux: ``python -m tbcourse <command>``.

    python -m tbcourse run [--work lessons] [--lesson 01]     run lessons as scripts, logging to runs/
    python -m tbcourse hint 02.3 | --reset [02.3]             the next hint for an exercise; start over
"""
import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tbcourse.grading.manifest import exercises
from tbcourse.settings import HINTS_SEEN, LESSONS, ROOT, lesson_names


def run(work: Path, lesson: str | None) -> int:
    """Run each lesson of ``work`` (or the one numbered ``lesson``) as a script, in course order."""
    names = [name for name in lesson_names(work) if lesson is None or name[:2] == lesson[:2]]
    if not names:
        print(f"error: no lesson {lesson or ''} in {work}", file=sys.stderr)
        return 2
    for name in names:
        print(f"== {work.name}/{name}.py", flush=True)
        code = subprocess.call([sys.executable, str(work / f"{name}.py")])
        if code:
            return code
    print("\nLogs are in runs/. Look at them: make tensorboard, then open http://127.0.0.1:6006")
    return 0


def id_ranges(ids) -> str:
    """``00.1-00.3, 01.1-01.3, ...``: the exercise ids, lesson by lesson."""
    by_lesson = {}
    for ex in ids:
        by_lesson.setdefault(ex[:2], []).append(ex)
    return ", ".join(f"{group[0]}-{group[-1]}" for group in by_lesson.values())


def hint(exercise: str | None, reset: bool, seen_file: Path) -> int:
    """Print the next hint level of ``exercise`` and remember it in ``seen_file``; the last level repeats.
    ``reset`` forgets the levels seen, of ``exercise`` or of every exercise. Pure Python: no make, no shell."""
    manifest = exercises()
    if exercise not in manifest and not (reset and exercise is None):
        which = f"no exercise {exercise!r}." if exercise else "which exercise?"
        print(f"error: {which} An exercise id is NN.k, as on the scorecard: {id_ranges(manifest)} "
              f"(e.g. python -m tbcourse hint 02.3)", file=sys.stderr)
        return 2
    try:
        seen = json.loads(seen_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, or unreadable: every exercise starts at its first level
        seen = {}
    if reset:
        seen = {ex: n for ex, n in seen.items() if exercise not in (None, ex)}
        print(f"Forgot the hints seen of {exercise or 'every exercise'}: the next one starts at level 1.")
    else:
        levels = manifest[exercise].hints
        level = min(seen.get(exercise, 0) + 1, len(levels))
        seen[exercise] = level
        print(f"{exercise} {manifest[exercise].function}(), hint {level} of {len(levels)}:")
        print(textwrap.fill(levels[level - 1], width=100, initial_indent="  ", subsequent_indent="  "))
        print(f"That is the last hint for {exercise}: it repeats from now on." if level == len(levels) else
              f"Still stuck? The same command gives hint {level + 1} of {len(levels)}.")
    seen_file.parent.mkdir(parents=True, exist_ok=True)
    seen_file.write_text(json.dumps(seen, indent=2) + "\n", encoding="utf-8")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tbcourse", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p_run = commands.add_parser("run", help="run lessons as scripts, logging to runs/NN_topic/")
    p_run.add_argument("--work", type=Path, default=LESSONS, help="folder of lesson scripts (default: lessons/)")
    p_run.add_argument("--lesson", help="only this lesson, e.g. 01")
    p_hint = commands.add_parser("hint", help="the next hint for an exercise, one level more each time")
    p_hint.add_argument("exercise", nargs="?", help="the exercise's id, e.g. 02.3")
    p_hint.add_argument("--reset", action="store_true", help="forget the hints seen (of the exercise, if named)")
    p_hint.add_argument("--seen", type=Path, default=HINTS_SEEN,
                        help=f"the file that remembers the hints seen (default: {HINTS_SEEN.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    if args.command == "hint":
        return hint(args.exercise, args.reset, args.seen)
    return run(args.work.resolve(), args.lesson)


if __name__ == "__main__":
    sys.exit(main())
