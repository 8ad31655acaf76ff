"""The message catalogs: extract what the course says, keep each language's ``.po`` in step, compile ``.mo``.

    python -m tbcourse.authoring.catalogs update    extract every message, merge it into each .po
    python -m tbcourse.authoring.catalogs compile   write each .mo from its .po (the .mo ship: students need no tools)
    python -m tbcourse.authoring.catalogs check     list every message without a current translation; exit 1 if any

The messages (msgids) come from three places: ``_()``, ``ngettext()`` and ``N_()`` in the course's Python
(``tbcourse/`` and the public graded tests, ``tests/graded/``), each hint level of ``exercises.toml``, and each
TODO of ``solutions/`` (the task of a ``### BEGIN SOLUTION NN.k: task`` line, which a Chinese build puts in the
stub's ``NotImplementedError``). Babel extracts and merges: when an English message changes, ``update`` keeps
its old translation marked fuzzy, with the English it was made from (``#| msgid``), as gettext does;
``check`` reports it stale until a translator rewrites it and removes the mark. Edit the ``.po``
(``tbcourse/locale/zh/LC_MESSAGES/tbcourse.po``), then ``compile``. The hidden checks' messages
(``tests/hidden/``) have a catalog of their own, ``tests/hidden/locale/zh/LC_MESSAGES/hidden.po``: it ships
only where the hidden checks do (the autograder), never in a release, whose catalog would otherwise tell
what the hidden checks look at.
"""
import argparse
import io
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from tbcourse.authoring.build import BEGIN
from tbcourse.i18n import DOMAIN, HIDDEN_DOMAIN, LANGUAGES, LOCALE_DIR
from tbcourse.settings import GRADED_TESTS, HIDDEN_TESTS, MANIFEST, PACKAGE, ROOT, SOLUTIONS, lesson_names

KEYWORDS = {"_": None, "ngettext": (1, 2), "N_": None}
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]


@dataclass(frozen=True)
class Domain:
    """A catalog: its name, the folder of its languages, and the Python it extracts from."""
    name: str
    folder: Path
    hidden: bool  # the hidden checks' own (else the course's, with the hints and TODOs too)

    def sources(self) -> list[Path]:
        if self.hidden:
            return sorted(HIDDEN_TESTS.glob("*.py"))
        package = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
        return package + sorted(GRADED_TESTS.glob("*.py"))


COURSE = Domain(DOMAIN, LOCALE_DIR, hidden=False)
HIDDEN = Domain(HIDDEN_DOMAIN, HIDDEN_TESTS / "locale", hidden=True)
DOMAINS = [COURSE, HIDDEN] if HIDDEN_TESTS.is_dir() else [COURSE]


def po_path(lang: str, domain: Domain = COURSE) -> Path:
    return domain.folder / lang / "LC_MESSAGES" / f"{domain.name}.po"


def mo_path(lang: str, domain: Domain = COURSE) -> Path:
    return po_path(lang, domain).with_suffix(".mo")


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


def template(domain: Domain = COURSE) -> Catalog:
    """Every message of ``domain``, with where it is said."""
    catalog = Catalog(domain=domain.name, project="tbcourse", fuzzy=False)
    for path in domain.sources():
        for number, message, comments, context in extract_from_file("python", path, keywords=KEYWORDS,
                                                                     comment_tags=("TRANSLATORS:",)):
            catalog.add(message, locations=[(_where(path), number)], auto_comments=comments, context=context)
    for message, where, number in [] if domain.hidden else [*hint_levels(), *todo_tasks()]:
        catalog.add(message, locations=[(where, number)]).flags.discard("python-brace-format")  # not formatted
    return catalog


def load(lang: str, domain: Domain = COURSE) -> Catalog:
    path = po_path(lang, domain)
    if not path.exists():
        return Catalog(locale=lang, domain=domain.name, project="tbcourse")
    with open(path, "rb") as f:
        return read_po(f, locale=lang, domain=domain.name)


def save(catalog: Catalog, lang: str, domain: Domain = COURSE) -> None:
    path = po_path(lang, domain)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.fuzzy = False  # the header: a fuzzy one would be left out of the .mo, and its charset with it
    out = io.BytesIO()
    write_po(out, catalog, width=120, include_previous=True, include_lineno=False, ignore_obsolete=True)
    path.write_bytes(out.getvalue())


def compiled(lang: str, domain: Domain = COURSE) -> bytes:
    out = io.BytesIO()
    write_mo(out, load(lang, domain))
    return out.getvalue()


def update() -> None:
    """Merge the messages into every language's .po: new ones empty, changed ones fuzzy, gone ones dropped. A
    message new to one catalog takes the translation another already has (a message moved between them)."""
    before = {(domain, lang): load(lang, domain) for domain in DOMAINS for lang in TRANSLATED}
    for domain in DOMAINS:
        fresh = template(domain)
        for lang in TRANSLATED:
            catalog, known = load(lang, domain), [before[other, lang] for other in DOMAINS if other != domain]
            for message in fresh:
                if message.id and message.id not in catalog:
                    found = next((c[message.id] for c in known if message.id in c and c[message.id].string), None)
                    if found is not None and not found.fuzzy:
                        catalog.add(message.id, found.string, flags=message.flags)
            catalog.update(fresh, update_creation_date=False)
            save(catalog, lang, domain)


def compile_all() -> None:
    for domain in DOMAINS:
        for lang in TRANSLATED:
            mo_path(lang, domain).write_bytes(compiled(lang, domain))


def problems() -> list[str]:
    """Every message without a current translation, and every .mo not compiled from its .po."""
    found = []
    for domain, lang in [(domain, lang) for domain in DOMAINS for lang in TRANSLATED]:
        fresh, catalog, po = template(domain), load(lang, domain), _where(po_path(lang, domain))
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
        if not mo_path(lang, domain).exists() or mo_path(lang, domain).read_bytes() != compiled(lang, domain):
            found.append(f"{_where(mo_path(lang, domain))} is not compiled from {po}: "
                         "python -m tbcourse.authoring.catalogs compile")
    return found


def translated_pairs(lang: str = "zh") -> list[tuple[str, str, str]]:
    """(where, English, translation, whether it is a format string) of every current message of ``lang``: what
    the glossary holds translations to."""
    pairs = []
    for domain in DOMAINS:
        catalog = load(lang, domain)
        for message in template(domain):
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
        print("updated: " + ", ".join(_where(po_path(lang, d)) for d in DOMAINS for lang in TRANSLATED))
    elif command == "compile":
        compile_all()
        print("compiled: " + ", ".join(_where(mo_path(lang, d)) for d in DOMAINS for lang in TRANSLATED))
    else:
        found = problems()
        print("\n".join(found) if found else "every message has a current translation")
        return 1 if found else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
