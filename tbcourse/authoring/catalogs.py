"""The message catalogs: extract what the course says, keep each language's ``.po`` in step, compile ``.mo``.

    python -m tbcourse.authoring.catalogs update    extract every message, merge it into each .po
    python -m tbcourse.authoring.catalogs compile   write each .mo from its .po (the .mo ship: students need no tools)
    python -m tbcourse.authoring.catalogs check     list every message without a current translation; exit 1 if any

The messages (msgids) come from three places: ``_()``, ``ngettext()`` and ``N_()`` in the course's Python
(``tbcourse/`` and the graded tests, public ``tests/graded/`` and hidden ``tests/hidden/``), each hint level
of ``exercises.toml``, and each TODO of ``solutions/`` (the task of a ``### BEGIN SOLUTION NN.k: task`` line,
which a Chinese build puts in the stub's ``NotImplementedError``). Babel extracts and merges: when an English message changes, ``update``
keeps its old translation marked fuzzy, with the English it was made from (``#| msgid``), as gettext does;
``check`` reports it stale until a translator rewrites it and removes the mark. Edit the ``.po``
(``tbcourse/locale/zh/LC_MESSAGES/tbcourse.po``), then ``compile``.
"""
import argparse
import io
import sys
import tomllib
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from tbcourse.authoring.build import BEGIN
from tbcourse.i18n import DOMAIN, LANGUAGES, LOCALE_DIR
from tbcourse.settings import GRADED_TESTS, HIDDEN_TESTS, MANIFEST, PACKAGE, ROOT, SOLUTIONS, lesson_names

KEYWORDS = {"_": None, "ngettext": (1, 2), "N_": None}
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


def _where(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def todo_tasks(solutions: Path = SOLUTIONS) -> list[tuple[str, str, int]]:
    """(task, file, line) of every TODO marked in the solutions."""
    found = []
    for name in lesson_names(solutions):
        path = solutions / f"{name}.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            begin = BEGIN.match(line)
            if begin:
                found.append((begin["task"], _where(path), number))
    return found


def hint_levels(manifest: Path = MANIFEST) -> list[tuple[str, str, int]]:
    """(hint, file, line) of every hint level of exercises.toml."""
    with open(manifest, "rb") as f:
        table = tomllib.load(f)["exercises"]
    lines = manifest.read_text(encoding="utf-8").splitlines()
    found = []
    for ex in table.values():
        for hint in ex.get("hints", []):
            number = next((n for n, line in enumerate(lines, start=1) if hint.replace('"', '\\"') in line), 0)
            found.append((hint, _where(manifest), number))
    return found


def template() -> Catalog:
    """Every message the course says, with where it is said."""
    catalog = Catalog(domain=DOMAIN, project="tbcourse", fuzzy=False)
    sources = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    sources += sorted(GRADED_TESTS.glob("*.py")) + sorted(HIDDEN_TESTS.glob("*.py"))
    for path in sources:
        for number, message, comments, context in extract_from_file("python", path, keywords=KEYWORDS,
                                                                     comment_tags=("TRANSLATORS:",)):
            catalog.add(message, locations=[(_where(path), number)], auto_comments=comments, context=context)
    for message, where, number in [*hint_levels(), *todo_tasks()]:
        catalog.add(message, locations=[(where, number)]).flags.discard("python-brace-format")  # not formatted
    return catalog


def load(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain=DOMAIN, project="tbcourse")
    with open(path, "rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def save(catalog: Catalog, lang: str) -> None:
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.fuzzy = False  # the header: a fuzzy one would be left out of the .mo, and its charset with it
    out = io.BytesIO()
    write_po(out, catalog, width=120, include_previous=True, include_lineno=False, ignore_obsolete=True)
    path.write_bytes(out.getvalue())


def compiled(lang: str) -> bytes:
    out = io.BytesIO()
    write_mo(out, load(lang))
    return out.getvalue()


def update() -> None:
    """Merge the messages into every language's .po: new ones empty, changed ones fuzzy, gone ones dropped."""
    fresh = template()
    for lang in TRANSLATED:
        catalog = load(lang)
        catalog.update(fresh, update_creation_date=False)
        save(catalog, lang)


def compile_all() -> None:
    for lang in TRANSLATED:
        mo_path(lang).write_bytes(compiled(lang))


def problems() -> list[str]:
    """Every message without a current translation, and every .mo not compiled from its .po."""
    fresh, found = template(), []
    for lang in TRANSLATED:
        catalog, po = load(lang), _where(po_path(lang))
        for message in fresh:
            if not message.id:
                continue
            where = ", ".join(f"{file}:{line}" for file, line in message.locations)
            english = message.id if isinstance(message.id, str) else message.id[0]
            done = catalog.get(message.id, message.context)
            if done is None or not (done.string if isinstance(done.string, str) else all(done.string)):
                found.append(f"{po}: no {lang} for {english!r} ({where})")
            elif done.fuzzy:
                before = done.previous_id[0] if done.previous_id else "?"
                found.append(f"{po}: stale {lang} for {english!r} ({where}): translated from {before!r}; "
                             "rewrite it and remove the fuzzy mark")
        if not mo_path(lang).exists() or mo_path(lang).read_bytes() != compiled(lang):
            found.append(f"{_where(mo_path(lang))} is not compiled from {po}: "
                         "python -m tbcourse.authoring.catalogs compile")
    return found


def translated_pairs(lang: str = "zh") -> list[tuple[str, str, str]]:
    """(where, English, translation, whether it is a format string) of every current message of ``lang``: what
    the glossary holds translations to."""
    catalog, pairs = load(lang), []
    for message in template():
        done = catalog.get(message.id, message.context) if message.id else None
        if done is not None and not done.fuzzy and done.string:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = done.string if isinstance(done.string, tuple) else (done.string,)
            where = ", ".join(f"{file}:{line}" for file, line in message.locations)
            formatted = "python-brace-format" in message.flags
            pairs += [(where, english, text, formatted) for english, text in zip(ids, strings)]
    return pairs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["update", "compile", "check"])
    command = parser.parse_args(argv).command
    if command == "update":
        update()
        print("updated: " + ", ".join(_where(po_path(lang)) for lang in TRANSLATED))
    elif command == "compile":
        compile_all()
        print("compiled: " + ", ".join(_where(mo_path(lang)) for lang in TRANSLATED))
    else:
        found = problems()
        print("\n".join(found) if found else "every message has a current translation")
        return 1 if found else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
