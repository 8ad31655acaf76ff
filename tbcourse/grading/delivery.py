"""A class's submissions as an LMS delivers them: a folder per student, a zip per student, or one flat folder.

``make grade SUBMISSIONS=dir`` takes, side by side in ``dir``:

- a **folder** per student, named by the folder (a clone, a ``lessons/`` folder, loose files: ``intake``);
- a **zip** per student, named by the zip (``jane_doe.zip`` -> ``jane_doe``): only its lesson files and
  notebook-sync records are unpacked, at most ``MAX_MEMBERS`` of them, each at most ``MAX_FILE_BYTES``,
  none outside the student's folder;
- **loose lesson files** as Canvas or Moodle name them in a flat download: ``doejane_1234_5678_02_make_grid.py``
  (Canvas: name, user id, file id, the file's own name; ``LATE`` may follow the name) or
  ``Jane Doe_1234_assignsubmission_file_01_add_image.py`` (Moodle). They are grouped by what precedes the
  lesson's name, up to the first number (the user's id): ``doejane_1234`` and ``Jane Doe_1234``.

A file that matches no lesson, or no student, and a name two of them claim, are reported by name, and the
files are not graded; a student is never scored 0 in silence.
"""
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from tbcourse.grading.intake import MAX_FILE_BYTES, lesson_of, read_regular, regular, shown
from tbcourse.grading.labels import LABELS
from tbcourse.grading.notebooks import STATE as NOTEBOOK_STATE
from tbcourse.settings import lesson_names

MAX_MEMBERS = 500  # members of a zip looked at
MAX_UNPACKED = 200 * 2**20  # bytes unpacked from one zip
LMS_NOISE = {"LATE", "late", "assignsubmission", "file", ""}


@dataclass
class Intake:
    students: list[Path] = field(default_factory=list)  # a folder per student, named by the student
    problems: list[str] = field(default_factory=list)  # what was not graded, and why


def student_key(prefix: str) -> str:
    """The student a flat file's LMS prefix names: its parts up to the first number (the user id), without
    the LMS's own words (``doejane_LATE_1234_5678`` -> ``doejane_1234``)."""
    kept = []
    for part in prefix.split("_"):
        if part in LMS_NOISE:
            continue
        kept.append(part)
        if part.isdigit():
            break
    return "_".join(kept)


def unzip(archive: Path, dest: Path) -> int:
    """Unpack the lesson files and notebook-sync records of ``archive`` below ``dest``; how many."""
    names, count, size = set(lesson_names()), 0, 0
    with zipfile.ZipFile(archive) as zipped:
        for member in zipped.infolist()[:MAX_MEMBERS]:
            parts = [p for p in member.filename.replace("\\", "/").split("/") if p not in ("", ".")]
            if member.is_dir() or not parts or ".." in parts or parts[0].endswith(":"):
                continue
            if parts[-1] != NOTEBOOK_STATE and not lesson_of(parts[-1], names):
                continue
            target = dest.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(member) as src, open(target, "xb") as out:
                size += out.write(src.read(min(MAX_FILE_BYTES, MAX_UNPACKED - size)))
            count += 1
            if size >= MAX_UNPACKED:
                break
    return count


def delivered(submissions: Path, unpacked: Path) -> Intake:
    """The students of ``submissions``: its folders as they are, its zips and flat files gathered into folders
    of ``unpacked``."""
    intake, flat, names = Intake(), {}, set(lesson_names())
    for entry in sorted(submissions.iterdir()):
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if entry.is_dir():
            intake.students.append(entry)
        elif entry.suffix.lower() == ".zip" and regular(entry):
            if entry.stem in {p.name for p in intake.students}:
                intake.problems.append(LABELS["zip beside folder"].format(name=shown(entry.name),
                                                                          student=shown(entry.stem)))
                continue
            folder = unpacked / "zips" / entry.stem
            try:
                folder.mkdir(parents=True)
                unzip(entry, folder)
                intake.students.append(folder)
            except (OSError, zipfile.BadZipFile, ValueError, EOFError) as err:
                intake.problems.append(LABELS["bad zip"].format(name=shown(entry.name), error=shown(err)))
        elif regular(entry):
            match = lesson_of(entry.name, names)
            key = student_key(match[1]) if match else ""
            if not key:
                intake.problems.append(LABELS["no student" if match else "no lesson"].format(name=shown(entry.name)))
                continue
            flat.setdefault(key, []).append(entry)
    taken = {p.name for p in intake.students}
    for key, files in sorted(flat.items()):
        if key in taken:
            intake.problems.append(LABELS["files beside folder"].format(names=", ".join(shown(f.name) for f in files),
                                                                        student=shown(key)))
            continue
        folder = unpacked / "flat" / key
        folder.mkdir(parents=True)
        for path in files:
            (folder / path.name).write_bytes(read_regular(path))
        intake.students.append(folder)
    return intake
