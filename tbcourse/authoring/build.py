"""Build the student lessons from the reference solutions: one source, two versions.

In ``solutions/NN_topic.py`` each exercise's answer sits between two marker lines::

    ### BEGIN SOLUTION 01.2: predict the stored pixels ...
    ...the reference answer...
    ### END SOLUTION

The build replaces each marked region, markers included, with one line at the marker's indentation,
``raise NotImplementedError("TODO(01.2): predict the stored pixels ...")``, ends the lesson with its
"Check your work" cell (``CHECK_CELL``: no lesson source carries one by hand), and writes the result to
``lessons/NN_topic.py``. Usage: ``python -m tbcourse.authoring.build`` writes; ``--check`` only compares.

``lessons/`` is English. A lesson built in another language (``lesson_text(..., lang="zh")``, as ``make release
COURSE_LANG=zh`` does) takes the translation of each markdown cell from beside it in the source
(``tbcourse.authoring.translations``) and the translation of each TODO and of the check cell's text from the
message catalog (``tbcourse/locale/``, ``tbcourse.authoring.catalogs``); code, names and ids stay as they are.
"""
import argparse
import gettext
import hashlib
import json
import re
import shutil
import sys
import time
from pathlib import Path

from tbcourse.authoring.translations import Untranslated, in_language
from tbcourse.i18n import DOMAIN, LOCALE_DIR, N_
from tbcourse.settings import LESSONS, SOLUTIONS, lesson_names

BUILD_RECORD = ".build.json"  # in lessons/: the SHA-256 of each lesson as the build last wrote it

BEGIN = re.compile(r"^(?P<indent>\s*)### BEGIN SOLUTION (?P<id>\d\d\.\d+): (?P<task>\S.*?)\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION")
CHECK_TEXT = N_("""## Check your work

In Jupyter, save the notebook (Ctrl+S), then run the cell below, even while cells above still fail:
it copies the notebook's code into its script, `{lesson}.py` beside it (the file the grader
reads), and prints this lesson's part of the scorecard. Run as a script, the cell does nothing:
use `make test LESSON={number}` there.""")
CHECK_CODE = """
# %%
import sys

if __name__ == "__main__" and "ipykernel" in sys.modules:  # only in a notebook, not when run as a script
    from tbcourse.kit.check import check

    check("{lesson}")
"""


class MarkerError(ValueError):
    """Solution markers that do not pair up."""


def strip_solutions(source: str, filename: str = "<source>", translate=None) -> str:
    """The student version of one solution file's text; ``translate`` gives each TODO's task in the lesson's
    language (None where it has no translation)."""
    out, open_at, untranslated = [], None, []
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if open_at is not None:
                raise MarkerError(f"{filename}:{number}: BEGIN SOLUTION inside the one opened at line {open_at}")
            open_at = number
            task = translate(begin["task"]) if translate else begin["task"]
            if task is None:
                untranslated.append(f"{filename}:{number}: TODO {begin['id']} {begin['task']!r} has no translation "
                                    "in the catalog")
            todo = f"TODO({begin['id']}): {task}"
            out.append(f"{begin['indent']}raise NotImplementedError({todo!r})\n")
        elif end:
            if open_at is None:
                raise MarkerError(f"{filename}:{number}: END SOLUTION without a BEGIN SOLUTION")
            open_at = None
        elif MARKER.match(line):
            raise MarkerError(f"{filename}:{number}: malformed marker, expected '### BEGIN SOLUTION NN.N: task'")
        elif open_at is None:
            out.append(line)
    if open_at is not None:
        raise MarkerError(f"{filename}:{open_at}: BEGIN SOLUTION is never closed")
    if untranslated:
        raise Untranslated("\n".join(untranslated))
    return "".join(out)


def exercise_ids(source: str) -> list[str]:
    """The exercise ids marked in one solution file, in order."""
    return [m["id"] for m in map(BEGIN.match, source.splitlines()) if m]


def catalog_translator(lang: str):
    """The translation of a message into ``lang`` from the compiled catalog, or None where it has none."""
    if lang == "en":
        return lambda message: message
    catalog = gettext.translation(DOMAIN, LOCALE_DIR, [lang])  # a copy of its own, to add the fallback to
    catalog.add_fallback(_Missing())

    def translate(message: str) -> str | None:
        try:
            return catalog.gettext(message)
        except _Untranslated:
            return None
    return translate


class _Untranslated(LookupError):
    pass


class _Missing(gettext.NullTranslations):
    """The fallback of a catalog asked for a message it lacks (one translated as itself is not lacking)."""

    def gettext(self, message):
        raise _Untranslated(message)


def check_cell(lesson: str, translate=lambda message: message) -> str:
    """The lesson's last cell: how to check one's work from a notebook."""
    text = (translate(CHECK_TEXT) or CHECK_TEXT).format(lesson=lesson, number=lesson[:2])
    markdown = "".join(f"# {line}\n" if line else "#\n" for line in text.splitlines())
    return f"\n# %% [markdown]\n{markdown}{CHECK_CODE.format(lesson=lesson)}"


def lesson_text(source: str, lesson: str, filename: str = "<source>", lang: str = "en") -> str:
    """The student lesson of one solution file in ``lang``: its answers stripped, its check cell appended.
    Raises Untranslated, naming each, when a cell or TODO has no current translation into ``lang``."""
    translate = catalog_translator(lang)
    problems = []
    try:
        source = in_language(source, lang, filename)
    except Untranslated as err:
        problems.append(str(err))
    try:
        student = strip_solutions(source, filename, None if lang == "en" else translate)
    except Untranslated as err:
        problems.append(str(err))
    if problems:
        raise Untranslated("\n".join(problems))
    return student + check_cell(lesson, translate)


class EditedLessons(RuntimeError):
    """Lessons edited by hand since the build last wrote them: rebuilding would lose that work."""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build(solutions: Path = SOLUTIONS, lessons: Path = LESSONS, check: bool = False, force: bool = False) -> list[str]:
    """Write (or, with ``check``, compare) every lesson; returns the lesson files that differ.

    A lesson whose text is no longer what the build last wrote (``lessons/.build.json`` keeps its SHA-256)
    was edited by hand: then nothing is written and EditedLessons names them, unless ``force``, which first
    copies each of them to ``NN_topic.py.<time>.bak`` beside it. Nothing is ever lost."""
    record = lessons / BUILD_RECORD
    built = json.loads(record.read_text(encoding="utf-8")) if record.exists() else {}
    stale, edited, texts = [], [], {}
    for name in lesson_names(solutions):
        src, dest = solutions / f"{name}.py", lessons / f"{name}.py"
        texts[name] = lesson_text(src.read_text(encoding="utf-8"), name, f"{solutions.name}/{src.name}")
        current = dest.read_text(encoding="utf-8") if dest.exists() else None
        if current != texts[name]:
            stale.append(name)
            if current is not None and _sha(current) != built.get(name):
                edited.append(name)
    if check:
        return [f"{lessons.name}/{name}.py" for name in stale]
    if edited and not force:
        raise EditedLessons(", ".join(f"{lessons.name}/{name}.py" for name in edited))
    lessons.mkdir(exist_ok=True)
    for name in stale:
        dest = lessons / f"{name}.py"
        if name in edited:
            shutil.copy2(dest, dest.with_name(f"{dest.name}.{time.strftime('%Y%m%d-%H%M%S')}.bak"))
        dest.write_text(texts[name], encoding="utf-8")
    record.write_text(json.dumps({name: _sha(text) for name, text in texts.items()}, indent=1, sort_keys=True) + "\n",
                      encoding="utf-8")
    return [f"{lessons.name}/{name}.py" for name in stale]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if lessons/ differs from the build")
    parser.add_argument("--force", action="store_true",
                        help="rebuild lessons edited by hand too, keeping each edited file as NN_topic.py.<time>.bak")
    args = parser.parse_args(argv)
    try:
        stale = build(check=args.check, force=args.force)
    except MarkerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except EditedLessons as err:
        print(f"error: not rebuilt, these lessons were edited since the build wrote them: {err}. Keep your work "
              "elsewhere, or rebuild with --force (make lessons FORCE=1), which keeps each as NN_topic.py.<time>.bak",
              file=sys.stderr)
        return 1
    if args.check and stale:
        print("lessons/ is out of date, run `make lessons`: " + ", ".join(stale), file=sys.stderr)
        return 1
    print("wrote: " + ", ".join(stale) if stale else "lessons/ is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
