"""The course's commands, the same on Windows, macOS and Linux: ``python -m tbcourse <command>``.

    python -m tbcourse run [--work solutions] [--lesson 01]   run lessons as scripts, logging to runs/
"""
import argparse
import subprocess
import sys
from pathlib import Path

from tbcourse.settings import SOLUTIONS, lesson_names


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tbcourse", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p_run = commands.add_parser("run", help="run lessons as scripts, logging to runs/NN_topic/")
    p_run.add_argument("--work", type=Path, default=SOLUTIONS, help="folder of lesson scripts (default: solutions/)")
    p_run.add_argument("--lesson", help="only this lesson, e.g. 01")
    args = parser.parse_args(argv)
    return run(args.work.resolve(), args.lesson)


if __name__ == "__main__":
    sys.exit(main())
