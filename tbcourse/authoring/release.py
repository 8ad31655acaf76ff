"""Write a student repository from the course: ``python -m tbcourse.authoring.release DEST``.

Like nbgrader's release or otter-grader's student folder, DEST gets what students work on and check
their work with, and nothing that gives an answer away:

- ``lessons/``: the build of ``solutions/`` (``tbcourse.authoring.build``), stubs where the answers were;
- ``data/``: the faces and the photo, and the data's README without its section on how the data is made
  (``make_data.py`` stays behind: it writes the answer key);
- ``tbcourse/``: the settings, ``kit/`` (what lessons import), ``grading/`` (the grader), ``runner/`` (what runs
  student code) and the platforms' graders (``platforms/gradescope.py``, ``platforms/classroom.py``); not
  ``authoring/`` nor what builds bundles;
- ``tests/graded/``, the public checks, and ``tests/graded/hidden.json``: how many hidden checks each exercise
  has and their points, which the scorecard shows; not the hidden checks themselves (``tests/hidden/``), whose
  content is the instructor's only. ``exercises.toml``, ``docs/syllabus.md``, ``requirements.txt``, and
  ``pyproject.toml`` with pytest pointed at the graded tests;
- a README, a Makefile and a ``.gitignore`` for students, from ``student/`` beside this file; the README
  takes the lesson table and the troubleshooting section of the course's;
- ``.github/workflows/classroom.yml``, GitHub Classroom's autograding (``tbcourse.platforms.classroom_workflow``).

Not ``solutions/``, the hidden checks (``tests/hidden/``), the answer keys (``tests/keys/``), the course's own
checks (``tests/course/``, ``tests/errata/``), its CI (``.ci/``), docs/figures or the authoring tools. Once written, every file of
DEST is searched for the answers (``tbcourse.authoring.leaks``: their lines, and their recipes in other words);
any found are listed and the command fails: that release must not go out.
"""
import argparse
import json
import re
import shutil
import sys
from pathlib import Path

from tbcourse.authoring.build import lesson_text
from tbcourse.authoring.leaks import leaks
from tbcourse.grading.manifest import hidden_checks
from tbcourse.platforms.classroom_workflow import classroom_workflow
from tbcourse.settings import (CLASSROOM_WORKFLOW, DATA, FACES, GRADED_TESTS, HIDDEN_SUMMARY, LESSONS, MANIFEST, PACKAGE,
                               PHOTO, ROOT, SOLUTIONS, SYLLABUS, lesson_names)

STUDENT = Path(__file__).with_name("student")  # the students' README.md, Makefile and gitignore
PLATFORMS = PACKAGE / "platforms"  # what grades a submission there ships; what builds a bundle does not
COPIED = [PACKAGE / "__init__.py", PACKAGE / "__main__.py", PACKAGE / "settings.py", PACKAGE / "kit",
          PACKAGE / "grading", PACKAGE / "runner", *(PLATFORMS / name for name in ("__init__.py", "gradescope.py",
                                                                                  "classroom.py")),
          FACES, PHOTO.parent, GRADED_TESTS, MANIFEST, SYLLABUS, ROOT / "requirements.txt", ROOT / ".devcontainer"]
CACHES = shutil.ignore_patterns("__pycache__", ".pytest_cache")
DATA_MAKING = "## How the data is made (instructors)"


def markdown_section(text: str, heading: str) -> str:
    """The part of a markdown text from the line ``heading`` to the next heading of its level, or the end."""
    start = text.index(f"\n{heading}\n") + 1
    end = text.find(f"\n{heading.split()[0]} ", start)
    return text[start:] if end < 0 else text[start:end + 1]


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def student_readme() -> str:
    """The students' README, with the course README's lesson table and troubleshooting section."""
    course = read(ROOT / "README.md")
    table = re.search(r"^\| lesson \| what it teaches.*\n(\|.*\n)+", course, re.M)[0]
    readme = read(STUDENT / "README.md").replace("{{lesson table}}\n", table)
    return readme.replace("{{troubleshooting}}\n", markdown_section(course, "## Troubleshooting")).rstrip() + "\n"


def student_pyproject() -> str:
    """The course's pyproject.toml, its pytest pointed at the graded tests instead of the course's own checks."""
    testpaths = (f"# `make test` grades with a scorecard; a bare `pytest` runs the same tests.\n"
                 f'testpaths = ["{GRADED_TESTS.relative_to(ROOT).as_posix()}"]\n')
    text, found = re.subn(r"^(#.*\n)*testpaths = .*\n", testpaths, read(ROOT / "pyproject.toml"), flags=re.M)
    if found != 1:
        raise ValueError("pyproject.toml: expected one testpaths line to point at the graded tests")
    return text


def release(dest: Path) -> None:
    """Write the student repository into ``dest``, a new or empty folder."""
    for source in COPIED:
        target = dest / source.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=CACHES)
        else:
            shutil.copy2(source, target)
    data_readme = read(DATA / "README.md")
    written = {LESSONS / f"{name}.py": lesson_text(read(SOLUTIONS / f"{name}.py"), name, f"{SOLUTIONS.name}/{name}.py")
               for name in lesson_names()}
    written.update({
        DATA / "README.md": data_readme.replace(markdown_section(data_readme, DATA_MAKING), "").rstrip() + "\n",
        ROOT / "README.md": student_readme(),
        ROOT / "pyproject.toml": student_pyproject(),
        ROOT / "Makefile": read(STUDENT / "Makefile"),
        ROOT / ".gitignore": read(STUDENT / "gitignore"),
        ROOT / CLASSROOM_WORKFLOW: classroom_workflow(),
        HIDDEN_SUMMARY: json.dumps(hidden_checks(), indent=2) + "\n",
    })
    for path, text in written.items():
        target = dest / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path, help="a new or empty folder outside the course")
    dest = parser.parse_args(argv).dest.resolve()
    if dest == ROOT or ROOT in dest.parents:
        print(f"error: {dest} is inside the course; write the release outside {ROOT}", file=sys.stderr)
        return 2
    if dest.exists() and not (dest.is_dir() and not any(dest.iterdir())):
        print(f"error: {dest} exists and is not an empty folder; name a new or empty one", file=sys.stderr)
        return 2
    release(dest)
    found = leaks(dest)
    if found:
        print(f"error: the release in {dest} holds {len(found)} pieces of answers; do not hand it out:",
              *found, sep="\n  ", file=sys.stderr)
        return 1
    print(f"wrote the student repository {dest}; next: cd {dest} && git init && git add -A && git commit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
