"""The spawn start method (Windows and macOS, which have no safe fork; or ``COURSE_START_METHOD=spawn``): a
worker per lesson, started afresh, which imports the lessons' libraries and runs the lesson's calls itself."""
import sys

from tbcourse.settings import SAFE_PATH


def command(worker_args: list[str]) -> list[str]:
    """``python -m tbcourse.runner.worker ...`` in this environment, started where the checks run."""
    return [sys.executable, *SAFE_PATH, "-m", "tbcourse.runner.worker", *worker_args]
