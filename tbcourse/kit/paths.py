"""Where a lesson finds its data and writes its logs."""
from datetime import datetime
from pathlib import Path

from tbcourse.settings import FACES, PHOTO, Settings

__all__ = ["FACES", "PHOTO", "run_dir", "latest_run"]


def run_dir(lesson: str) -> Path:
    """A new log folder for one run of a lesson, ``runs/<lesson>/<date>_<time>/`` under the course (not the
    current folder). TensorBoard lists each such folder as a run of its own: an earlier run's logs stay, and a
    rerun never stacks a second copy of the same steps. ``COURSE_RUNS`` moves the ``runs`` folder elsewhere
    (the course's own checks use a temporary one)."""
    lesson_runs = Settings.from_env().runs / lesson
    stamp, n = datetime.now().strftime("%Y-%m-%d_%H-%M-%S"), 1
    while True:
        path = lesson_runs / (stamp if n == 1 else f"{stamp}_{n}")  # two runs in one second: _2, _3, ...
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            n += 1


def latest_run(lesson_runs: Path) -> Path:
    """The newest run folder under ``runs/<lesson>/`` that ``run_dir`` made (their names sort by time)."""
    return max((path for path in lesson_runs.iterdir() if path.is_dir()), key=lambda path: path.name)
