"""One exercise's verdict, for GitHub Classroom: ``python -m tbcourse.platforms.classroom 01.2``.

The student release's workflow (``.github/workflows/classroom.yml``, written by ``make release``) grades
every lesson once into reports/grade.json, then runs this once per exercise, each in a step of
``classroom-resources/autograding-command-grader``, which awards the exercise's points when the command
exits 0. It prints the exercise's row of the scorecard (with the reason and hint of a failure) and exits 0
when the exercise passed, 1 when it did not, 2 when there is no such grade to read.

``--summary`` prints the whole scorecard as Markdown, for the run's summary (``$GITHUB_STEP_SUMMARY``): the
command grader shows only a failed exit code, and this is where a student reads why.
"""
import argparse
import json
import sys
from pathlib import Path

from tbcourse.grading.grade import scorecard
from tbcourse.settings import REPORTS


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercise", nargs="?", help="an exercise id, e.g. 01.2")
    parser.add_argument("--summary", action="store_true", help="the whole scorecard, as Markdown")
    parser.add_argument("--report", type=Path, default=REPORTS / "grade.json", help="the grade to read")
    args = parser.parse_args(argv)
    if not args.summary and not args.exercise:
        parser.error("name an exercise, or --summary")
    try:
        results = json.loads(args.report.read_text(encoding="utf-8"))["exercises"]
    except (OSError, ValueError, KeyError) as err:
        print(f"error: no grade in {args.report} ({type(err).__name__}: {err}); grade first: make test",
              file=sys.stdout if args.summary else sys.stderr)
        return 0 if args.summary else 2
    if args.summary:
        print(f"## Scorecard\n\n```\n{scorecard(results)}\n```")
        return 0
    if args.exercise not in results:
        print(f"error: {args.report} grades no exercise {args.exercise}", file=sys.stderr)
        return 2
    print(scorecard({args.exercise: results[args.exercise]}))
    return 0 if results[args.exercise]["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
