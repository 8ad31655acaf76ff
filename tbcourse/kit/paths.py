"""Where a lesson finds its data and writes its logs."""
import shutil
from pathlib import Path

from tbcourse.settings import FACES, PHOTO, Settings

__all__ = ["FACES", "PHOTO", "run_dir"]


def run_dir(lesson: str, fresh: bool = True) -> Path:
    """The log folder of one lesson, ``runs/<lesson>/`` under the course (not the current folder).

    ``COURSE_RUNS`` moves the ``runs`` folder elsewhere (the course's own checks use a temporary one).
    ``fresh`` empties the folder first, so a rerun does not stack a second copy of every step.
    """
    path = Settings.from_env().runs / lesson
    if fresh and path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path
