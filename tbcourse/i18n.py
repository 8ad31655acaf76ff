"""The language of what the course says at run time, through Python's gettext.

    from tbcourse.i18n import _, ngettext
    print(_("total: {total}/{best} points").format(total=3, best=7))

Catalogs are ``tbcourse/locale/<lang>/LC_MESSAGES/tbcourse.po`` (the sources, edited by translators) and the
compiled ``.mo`` beside them, which ship, so students need no gettext tools (authors keep them in step with
``make catalogs``). The language, in this order: ``--lang`` of the commands (which sets
``COURSE_LANG`` for the processes they start), ``COURSE_LANG``, the language a release was written in
(``tbcourse/locale/LANGUAGE``, written by ``make release COURSE_LANG=zh``), then the system's locale
(``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``, or Windows' user locale): ``zh_CN.UTF-8`` -> ``zh``.
Anything else is English, the language of the source; a message without a translation stays English.
"""
import gettext
import locale
import os
import unicodedata
from functools import lru_cache
from pathlib import Path

LANG_ENV = "COURSE_LANG"
LANGUAGES = ("en", "zh")  # en: the source's own language, no catalog
DOMAIN = "tbcourse"
HIDDEN_DOMAIN = "hidden"  # the hidden checks' own catalog, beside them (tests/hidden/locale/): never in a release
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
RELEASE_LANGUAGE = LOCALE_DIR / "LANGUAGE"  # one line, the language a release was written in


def normalize(name: str | None) -> str | None:
    """``zh_CN.UTF-8``, ``zh-Hans``, ``Chinese (Simplified)_China.936`` -> ``zh``; ``en_US``, ``C`` -> ``en``;
    empty -> None."""
    name = (name or "").strip().lower()
    if not name:
        return None
    return "zh" if name.startswith("zh") or name.startswith("chinese") else "en"


def system_language() -> str:
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):  # gettext's own order
        value = os.environ.get(var, "").split(":")[0]
        if value:
            return normalize(value)
    try:
        return normalize(locale.getlocale()[0]) or "en"  # Windows sets none of the variables
    except ValueError:
        return "en"


def language() -> str:
    """The language messages are in now: ``en`` or ``zh``."""
    chosen = normalize(os.environ.get(LANG_ENV))
    if chosen:
        return chosen
    try:
        return normalize(RELEASE_LANGUAGE.read_text(encoding="utf-8")) or system_language()
    except OSError:
        return system_language()


def use(lang: str) -> None:
    """Speak ``lang`` from now on, here and in every process started from here (``--lang``)."""
    if lang not in LANGUAGES:
        raise ValueError(f"{LANG_ENV}={lang}: expected one of {', '.join(LANGUAGES)}")
    os.environ[LANG_ENV] = lang


@lru_cache(maxsize=None)
def translation(lang: str) -> gettext.NullTranslations:
    """The catalog of ``lang`` (English: none, the messages are their own translation)."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, [lang], fallback=True)


def _(message: str) -> str:
    return translation(language()).gettext(message)


def translator(folder: Path, domain: str):
    """A ``_`` for messages kept in a catalog of their own in ``folder`` (the hidden checks'): that catalog first,
    then the course's."""
    def gettext_(message: str) -> str:
        return _own_translation(language(), folder, domain).gettext(message)
    return gettext_


@lru_cache(maxsize=None)
def _own_translation(lang: str, folder: Path, domain: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    own = gettext.translation(domain, folder, [lang], fallback=True)
    own.add_fallback(translation(lang))
    return own


def ngettext(singular: str, plural: str, n: int) -> str:
    return translation(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a message for the catalog where it is defined; ``_()`` translates it where it is shown."""
    return message


def width(text: str) -> int:
    """The columns ``text`` takes in a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def ljust(text: str, columns: int) -> str:
    """``text`` padded with spaces to ``columns`` terminal columns."""
    return text + " " * max(0, columns - width(text))
