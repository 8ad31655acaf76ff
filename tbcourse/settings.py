"""The course's layout and the settings that pass between its processes: the one place that owns them.

- Folders: where the lessons, solutions, data, graded tests, answer keys, reports and logs live, and the file
  that remembers the hints a student has seen.
- The lesson naming rule: a lesson is ``NN_topic`` (two digits, an underscore, a topic); its graded
  tests are ``tests/graded/test_NN_topic.py`` (public) and ``tests/hidden/test_NN_topic_hidden.py`` (hidden).
- The environment variables through which the grade driver, pytest, the lessons and the processes
  that run student code talk to each other, and the default limits of a call of student code.
  ``Settings.from_env()`` reads them, ``Settings.env()`` writes them for a child process.
"""
import os
import re
import sys
from dataclasses import dataclass, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tbcourse"  # the course's code: settings, kit/ (lessons), grading/ (grader), authoring/ (authors)
DATA = ROOT / "data"
FACES = DATA / "faces"  # two-class ImageFolder set: train/ and valid/, one folder per class
PHOTO = DATA / "photos" / "astronaut.png"  # lesson 04's picture
LESSONS = ROOT / "lessons"  # the student versions (built from solutions/)
SOLUTIONS = ROOT / "solutions"  # the one source of every lesson, answers included (never in a student release)
GRADED_TESTS = ROOT / "tests" / "graded"  # the public checks: students get them, and run them (make test)
HIDDEN_TESTS = ROOT / "tests" / "hidden"  # the hidden checks: the instructor's grade only (never in a release)
HIDDEN_SUMMARY = GRADED_TESTS / "hidden.json"  # in a release: how many hidden checks each exercise has, no more
KEYS = ROOT / "tests" / "keys"  # the answer keys, for instructors (never in a student release)
REPORTS_ENV = "COURSE_REPORTS"  # moves reports/ elsewhere (the course's own checks use a temporary one)
REPORTS = Path(os.environ.get(REPORTS_ENV) or ROOT / "reports")
HINTS_SEEN = REPORTS / "hints.json"  # how many hint levels a student has seen, per exercise (python -m tbcourse hint)
PROGRESS = REPORTS / "progress.json"  # the latest result of every exercise graded, across runs (make progress)
RUNS = ROOT / "runs"
VENV = ROOT / ".venv"  # the course's own Python environment (python -m tbcourse setup, make)
VENV_STAMP = VENV / ".installed"  # written once the venv is complete: make's targets build it only without one
MANIFEST = ROOT / "exercises.toml"
SYLLABUS = ROOT / "docs" / "syllabus.md"

LESSON_GLOB = "[0-9][0-9]_*"  # NN_topic
LESSON_NAME = re.compile(r"^(?P<number>\d\d)_(?P<topic>\w+)$")
EXERCISE_ID = re.compile(r"^(?P<lesson>\d\d)\.(?P<n>\d+)$")


def lesson_names(folder: Path | None = None) -> list[str]:
    """The lessons whose scripts are in ``folder``, ``NN_topic``, in course order. Without a folder, the course's
    lessons: those of solutions/, or in a student release, which has none, those of the graded tests."""
    if folder is None and not SOLUTIONS.is_dir():
        return sorted(path.stem.removeprefix("test_") for path in graded_test_files())
    return sorted(p.stem for p in Path(folder or SOLUTIONS).glob(f"{LESSON_GLOB}.py") if LESSON_NAME.match(p.stem))


def venv_python() -> Path:
    """The course environment's interpreter, on Windows or elsewhere."""
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def lesson_of(exercise: str, names: list[str] | None = None) -> str:
    """The lesson ``NN_topic`` that exercise ``NN.k`` belongs to."""
    number = EXERCISE_ID.match(exercise)["lesson"]
    matches = [name for name in (names or lesson_names()) if name[:2] == number]
    if len(matches) != 1:
        raise LookupError(f"exercise {exercise}: no single lesson numbered {number} among {names or lesson_names()}")
    return matches[0]


def graded_test_files(lesson: str | None = None) -> list[Path]:
    """The graded tests of one lesson (``NN`` or ``NN_topic``), or of every lesson."""
    number = lesson[:2] if lesson else "[0-9][0-9]"
    return sorted(GRADED_TESTS.glob(f"test_{number}_*.py"))


def hidden_test_files(lesson: str | None = None) -> list[Path]:
    """The hidden checks of one lesson, or of every lesson: none in a student release."""
    number = lesson[:2] if lesson else "[0-9][0-9]"
    return sorted(HIDDEN_TESTS.glob(f"test_{number}_*_hidden.py"))


def lesson_of_test(path: Path) -> str:
    """The lesson ``NN_topic`` a graded test file checks, public or hidden."""
    return Path(path).stem.removeprefix("test_").removesuffix("_hidden")


# The environment variables between processes, by the field of Settings they carry.
ENV = {
    "work": "COURSE_WORK",  # the folder of lesson files the graded tests load (default: lessons/)
    "work_label": "COURSE_WORK_LABEL",  # how messages name that folder (a class names the student)
    "runs": "COURSE_RUNS",  # where lessons log (default: runs/); the course's own checks use a temporary one
    "record": "GRADE_RECORD",  # the file the grading plugin writes its verdicts to; never seen by student code
    "call_seconds": "GRADE_CALL_SECONDS",  # wall time of one call of student code
    "call_memory_mb": "GRADE_CALL_MEMORY_MB",  # address space one call may add to what its process starts with
    "start_method": "COURSE_START_METHOD",  # how student code is run: one of START_METHODS (tbcourse.runner.methods)
    "scratch": "GRADE_SCRATCH",  # the one folder that sandboxed student code may write to (bwrap, unprivileged)
    "checks_tmp": "GRADE_CHECKS_TMP",  # the checks' temporary folder, of which sandboxed code sees a call's inputs
}
# How a worker's Python starts: never looking for modules in the folder it starts in (python -P, 3.11 on),
# where a boundary's student code could have planted one; on 3.10, a boundary's worker starts in / instead.
SAFE_PATH = ["-P"] if sys.version_info >= (3, 11) else []
BOUNDARIES = ("bwrap", "unprivileged")  # the start methods that keep student code out of the grader's files
START_METHODS = ("fork", "spawn", *BOUNDARIES)

OFFLINE_ENV = "COURSE_OFFLINE"  # "1": lessons try no download (AlexNet's weights)
WEIGHTS_ENV = "ALEXNET_WEIGHTS"  # a file holding AlexNet's ImageNet state dict

# Grading in the cloud (tbcourse.platforms).
DIST = ROOT / "dist"  # what make autograder builds (git-ignored)
GRADESCOPE_ROOT = Path("/autograder")  # Gradescope's layout: source/ (the zip), submission/, results/
AUTOGRADER_ROOT_ENV = "AUTOGRADER_ROOT"  # another root laid out the same (make autograder-check)
AUTOGRADER_BOUNDARY_ENV = "AUTOGRADER_BOUNDARY"  # bwrap or unprivileged: the boundary the autograder must use
GRADESCOPE_SCHEMA = ROOT / "docs" / "gradescope-results.schema.json"
CLASSROOM_WORKFLOW = ".github/workflows/classroom.yml"  # in a student release, for GitHub Classroom
TESTED_PYTHON = "3.11"
TESTED_PINS = ("torch==2.14.1", "torchvision==0.29.1")  # what make check ran on; the cloud graders install these
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"  # torch's CPU-only wheels: no CUDA download on a CPU


@dataclass(frozen=True)
class Settings:
    work: Path = LESSONS
    work_label: str = ""
    runs: Path = RUNS
    record: Path | None = None
    call_seconds: float = 60.0
    call_memory_mb: int = 1024
    start_method: str = ""  # empty: fork where the platform forks safely (Linux), else spawn
    scratch: Path | None = None
    checks_tmp: Path | None = None

    @classmethod
    def from_env(cls, environ=None) -> "Settings":
        environ = os.environ if environ is None else environ
        values = {}
        for field in fields(cls):
            raw = environ.get(ENV[field.name])
            if raw:
                kind = type(getattr(cls, field.name)) if getattr(cls, field.name) is not None else Path
                values[field.name] = Path(raw) if kind in (Path, type(ROOT)) else kind(raw)
        return cls(**values)

    def env(self) -> dict[str, str]:
        """This object as environment variables for a child process (unset fields left out)."""
        return {ENV[f.name]: str(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) not in (None, "")}

    @property
    def method(self) -> str:
        """The start method in force: the one set, else fork on Linux and spawn elsewhere."""
        if self.start_method:
            if self.start_method not in START_METHODS:
                raise ValueError(f"{ENV['start_method']}={self.start_method}: expected one of {', '.join(START_METHODS)}")
            return self.start_method
        return "fork" if sys.platform.startswith("linux") else "spawn"

    @property
    def label(self) -> str:
        """How a message names the work folder."""
        return self.work_label or str(self.work)
