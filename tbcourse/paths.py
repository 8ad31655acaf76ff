"""Where the course keeps its data and writes its logs."""
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
FACES = DATA / "faces"  # two-class ImageFolder set: train/ and valid/, one folder per class
PHOTO = DATA / "photos" / "astronaut.png"  # lesson 04's picture
WORK_ENV = "COURSE_WORK"  # the folder of lesson files that the graded tests load (default: lessons/)
WORK_LABEL_ENV = "COURSE_WORK_LABEL"  # how messages name that folder (a class names the student)


def run_dir(lesson: str, fresh: bool = True) -> Path:
    """The log folder of one lesson, ``runs/<lesson>/`` under the course (not the current folder).

    ``COURSE_RUNS`` moves the ``runs`` folder elsewhere (the course's own checks use a temporary one).
    ``fresh`` empties the folder first, so a rerun does not stack a second copy of every step.
    """
    path = Path(os.environ.get("COURSE_RUNS", ROOT / "runs")) / lesson
    if fresh and path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path
