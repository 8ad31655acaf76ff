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

With ``--lang zh`` (``make release DEST=dir COURSE_LANG=zh``) the release is Chinese: its lessons are built
in Chinese (``tbcourse.authoring.build``), its README is ``student/README.zh.md``, and
``tbcourse/locale/LANGUAGE`` makes Chinese the default language of its messages (``tbcourse.i18n``); the
command refuses, naming each, while a cell, TODO or the README has no current translation.

Not ``solutions/``, the hidden checks (``tests/hidden/``), the answer keys (``tests/keys/``), the course's own
checks (``tests/course/``, ``tests/errata/``), its CI (``.ci/``), docs/figures or the authoring tools. Once
written, every file of DEST is searched for the answers (``tbcourse.authoring.leaks``: their lines, and their
recipes in other words); any found are listed and the command fails: that release must not go out.
"""
import argparse
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

from tbcourse.authoring.build import lesson_text
from tbcourse.authoring.leaks import leaks
from tbcourse.authoring.translations import README_SIGNED, Untranslated, faithful, glossary
from tbcourse.grading.manifest import hidden_checks
from tbcourse.i18n import LANGUAGES, RELEASE_LANGUAGE
from tbcourse.platforms.classroom_workflow import classroom_workflow
from tbcourse.settings import (CLASSROOM_WORKFLOW, DATA, FACES, GRADED_TESTS, HIDDEN_SUMMARY, LESSONS, MANIFEST, PACKAGE,
                               PHOTO, ROOT, SOLUTIONS, SYLLABUS, lesson_names)

STUDENT = Path(__file__).with_name("student")  # the students' README.md, Makefile and gitignore
PLATFORMS = PACKAGE / "platforms"  # what grades a submission there ships; what builds a bundle does not
COPIED = [PACKAGE / "__init__.py", PACKAGE / "__main__.py", PACKAGE / "settings.py", PACKAGE / "i18n.py",
          PACKAGE / "locale", PACKAGE / "kit", PACKAGE / "grading", PACKAGE / "runner",
          *(PLATFORMS / name for name in ("__init__.py", "gradescope.py", "classroom.py")),
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


def student_readme(lang: str = "en") -> str:
    """The students' README, with the course README's lesson table and troubleshooting section; in another
    language, its translation ``student/README.<lang>.md``, which holds both translated."""
    if lang != "en":
        return README_SIGNED.sub("", read(STUDENT / f"README.{lang}.md"), count=1)
    course = read(ROOT / "README.md")
    table = re.search(r"^\| lesson \| what it teaches.*\n(\|.*\n)+", course, re.M)[0]
    readme = read(STUDENT / "README.md").replace("{{lesson table}}\n", table)
    return readme.replace("{{troubleshooting}}\n", markdown_section(course, "## Troubleshooting")).rstrip() + "\n"


def readme_problems(lang: str) -> list[str]:
    """The students' README in ``lang`` (``student/README.<lang>.md``): there, signed with the hash of the
    English it was translated from (the students' README with the course README's lesson table and
    troubleshooting), and its lesson table's ids and points those of the English."""
    path = STUDENT / f"README.{lang}.md"
    where = path.relative_to(ROOT).as_posix()
    if not path.exists():
        return [f"{where}: missing (the students' README in {lang})"]
    text, english = read(path), student_readme()
    now = hashlib.sha256(english.encode("utf-8")).hexdigest()[:8]
    signed = README_SIGNED.match(text)
    found = []
    if not signed or signed["hash"] != now:
        found.append(f"{where}: the English README changed since this was written (translated from "
                     f"{signed['hash'] if signed else 'no hash'}, the English is now {now}): bring it up to date, then "
                     f"make its first line <!-- translated from the English of hash {now} -->")

    def rows(markdown):
        return [tuple(cell.strip() for i, cell in enumerate(row.split("|")) if i in (1, 3, 4))
                for row in re.findall(r"^\| \d\d \|.*$", markdown, re.M)]
    if rows(text) != rows(english):
        found.append(f"{where}: the lesson table's ids and points are not the English README's: {rows(english)}")
    return found + faithful(where, english, text, glossary())


def student_pyproject() -> str:
    """The course's pyproject.toml, its pytest pointed at the graded tests instead of the course's own checks."""
    testpaths = (f"# `make test` grades with a scorecard; a bare `pytest` runs the same tests.\n"
                 f'testpaths = ["{GRADED_TESTS.relative_to(ROOT).as_posix()}"]\n')
    text, found = re.subn(r"^(#.*\n)*testpaths = .*\n", testpaths, read(ROOT / "pyproject.toml"), flags=re.M)
    if found != 1:
        raise ValueError("pyproject.toml: expected one testpaths line to point at the graded tests")
    return text


def release(dest: Path, lang: str = "en") -> None:
    """Write the student repository into ``dest``, a new or empty folder, in ``lang``. Raises Untranslated,
    writing nothing, while a lesson's cell or TODO or the README has no current translation into ``lang``."""
    lessons = {LESSONS / f"{name}.py": lesson_text(read(SOLUTIONS / f"{name}.py"), name,
                                                   f"{SOLUTIONS.name}/{name}.py", lang) for name in lesson_names()}
    if lang != "en" and readme_problems(lang):
        raise Untranslated("\n".join(readme_problems(lang)))
    for source in COPIED:
        target = dest / source.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=CACHES)
        else:
            shutil.copy2(source, target)
    data_readme = read(DATA / "README.md")
    written = {
        **lessons,
        DATA / "README.md": data_readme.replace(markdown_section(data_readme, DATA_MAKING), "").rstrip() + "\n",
        ROOT / "README.md": student_readme(lang),
        ROOT / "pyproject.toml": student_pyproject(),
        ROOT / "Makefile": read(STUDENT / "Makefile"),
        ROOT / ".gitignore": read(STUDENT / "gitignore"),
        ROOT / CLASSROOM_WORKFLOW: classroom_workflow(),
        HIDDEN_SUMMARY: json.dumps(hidden_checks(), indent=2) + "\n",
    }
    if lang != "en":
        written[RELEASE_LANGUAGE] = f"{lang}\n"
    for path, text in written.items():
        target = dest / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path, help="a new or empty folder outside the course")
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help="the language of the release (default: en)")
    args = parser.parse_args(argv)
    dest = args.dest.resolve()
    if dest == ROOT or ROOT in dest.parents:
        print(f"error: {dest} is inside the course; write the release outside {ROOT}", file=sys.stderr)
        return 2
    if dest.exists() and not (dest.is_dir() and not any(dest.iterdir())):
        print(f"error: {dest} exists and is not an empty folder; name a new or empty one", file=sys.stderr)
        return 2
    try:
        release(dest, args.lang)
    except Untranslated as err:
        print(f"error: the release is not fully translated into {args.lang}; nothing written:\n{err}", file=sys.stderr)
        return 1
    found = leaks(dest)
    if found:
        print(f"error: the release in {dest} holds {len(found)} pieces of answers; do not hand it out:",
              *found, sep="\n  ", file=sys.stderr)
        return 1
    print(f"wrote the student repository {dest}; next: cd {dest} && git init && git add -A && git commit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
