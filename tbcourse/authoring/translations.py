"""One source, two languages: the Chinese of each lesson's prose sits beside its English, and nothing drifts.

In ``solutions/NN_topic.py`` each English markdown cell is followed by its Chinese, a markdown cell marked
with its language and a short hash of the English it was translated from::

    # %% [markdown]
    # ## 4. add_image() — 记录图像
    # ...
    # %% [markdown] en="3f2a9c1e" lang="zh"
    # ## 4. add_image() — 记录图像
    # ...

jupytext reads both as markdown cells (the marks are cell metadata). The English build (``lessons/``) leaves
every translation out; a Chinese build (``in_language(source, "zh")``) puts each in place of its English.
The English that changed after its Chinese was written no longer matches the hash: ``check`` reports it
stale, as gettext marks a message fuzzy. A translator writes a new Chinese cell as
``# %% [markdown] lang="zh"`` and runs ``python -m tbcourse.authoring.translation_check sign``, which adds the
hash of the English above it.

``python -m tbcourse.authoring.translation_check`` checks these cells with the messages and the README.
"""
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from tbcourse.settings import ROOT, SOLUTIONS, lesson_names

HEADER = re.compile(r"^# %%.*$", re.M)
MARKDOWN = "# %% [markdown]"
# The marks in the order Jupyter writes a cell's metadata (sorted), so that a notebook's round trip keeps them.
TRANSLATION = re.compile(r'^# %% \[markdown\](?: en="(?P<hash>[0-9a-f]+)")? lang="(?P<lang>[a-z]+)"$')
GLOSSARY = ROOT / "docs" / "glossary.md"
CODE_SPAN = re.compile(r"`[^`]+`")  # once code blocks are left out; a span may go on to the next line
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
COMMENT = re.compile(r"\s+#\s.*$", re.M)
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?!\w)")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
QUOTED = re.compile(r"(?<!\w)'(.+?)'(?!\w)|“([^”]+)”")


class Untranslated(ValueError):
    """A lesson cannot be built in a language: cells without a current translation (one per line)."""


@dataclass
class Cell:
    line: int  # of its header, from 1
    header: str
    body: str  # what follows the header, up to the next one

    @property
    def lang(self) -> str | None:
        found = TRANSLATION.match(self.header)
        return found["lang"] if found else None

    @property
    def signed(self) -> str | None:
        found = TRANSLATION.match(self.header)
        return found["hash"] if found else None

    @property
    def text(self) -> str:
        """The cell's markdown as a reader sees it, without the ``# `` of the script."""
        return "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#")
                         for line in self.body.strip("\n").splitlines())

    @property
    def title(self) -> str:
        return self.text.splitlines()[0] if self.text else ""


def english_hash(cell: Cell) -> str:
    return hashlib.sha256(cell.body.strip("\n").encode("utf-8")).hexdigest()[:8]


def cells(source: str) -> tuple[str, list[Cell]]:
    """(what comes before the first cell, the cells)."""
    starts = [m.start() for m in HEADER.finditer(source)]
    found = []
    for start, end in zip(starts, [*starts[1:], len(source)]):
        header, _, body = source[start:end].partition("\n")
        found.append(Cell(source.count("\n", 0, start) + 1, header, body))
    return source[:starts[0]] if starts else source, found


def pairs(source: str, lang: str, filename: str = "<source>") -> tuple[list[tuple[Cell, Cell | None]], list[str]]:
    """Each English markdown cell with its ``lang`` translation (or None), and the problems: a missing,
    unsigned, stale or stray translation, as ``file:line: ...``."""
    _, found = cells(source)
    matched, problems = [], []
    for i, cell in enumerate(found):
        after = found[i + 1] if i + 1 < len(found) else None
        if cell.header == MARKDOWN:
            mine = after if after is not None and after.lang == lang else None
            matched.append((cell, mine))
            where = f"{filename}:{cell.line}: the cell {cell.title!r}"
            if mine is None:
                problems.append(f"{where} has no {lang} translation after it")
            elif mine.signed is None:
                problems.append(f"{where}: its {lang} translation is not signed (python -m tbcourse.authoring."
                                "translations sign)")
            elif mine.signed != english_hash(cell):
                problems.append(f"{where} changed since its {lang} translation was written (translated from "
                                f"{mine.signed}, the English is now {english_hash(cell)}): rewrite the translation, "
                                "then sign it")
        elif cell.lang and (i == 0 or found[i - 1].header != MARKDOWN):
            problems.append(f"{filename}:{cell.line}: a {cell.lang} translation that follows no English markdown cell")
    return matched, problems


def in_language(source: str, lang: str, filename: str = "<source>") -> str:
    """The lesson source in ``lang``: English leaves every translation out; another language takes each
    English markdown cell's translation in its place, or raises Untranslated naming every cell without one."""
    before, found = cells(source)
    if lang == "en":
        return before + "".join(f"{c.header}\n{c.body}" for c in found if c.lang is None)
    matched, problems = pairs(source, lang, filename)
    if problems:
        raise Untranslated("\n".join(problems))
    instead = {english.line: mine for english, mine in matched}
    out = [before]
    for cell in found:
        if cell.lang is not None:
            continue
        mine = instead.get(cell.line)
        out.append(f"{MARKDOWN}\n{mine.body}" if mine else f"{cell.header}\n{cell.body}")
    return "".join(out)


def sign(path: Path) -> int:
    """Give each translation cell of ``path`` without a hash the hash of the English cell before it."""
    source = path.read_text(encoding="utf-8")
    _, found = cells(source)
    lines, signed = source.splitlines(keepends=True), 0
    for before, cell in zip(found, found[1:]):
        if cell.lang and cell.signed is None and before.header == MARKDOWN:
            lines[cell.line - 1] = f'{MARKDOWN} en="{english_hash(before)}" lang="{cell.lang}"\n'
            signed += 1
    path.write_text("".join(lines), encoding="utf-8")
    return signed


def glossary(path: Path = GLOSSARY) -> dict[str, list[str]]:
    """English term -> its Chinese terms (any one will do), from the table of docs/glossary.md."""
    terms = {}
    for row in re.findall(r"^\|(.+)\|\s*$", path.read_text(encoding="utf-8"), re.M):
        english, chinese, *_ = (cell.strip() for cell in row.split("|"))
        if english and not set(english) <= set("-: ") and english != "English":
            terms[english] = [term.strip() for term in chinese.split("/") if term.strip()]
    return terms


def faithful(where: str, english: str, chinese: str, terms: dict[str, list[str]]) -> list[str]:
    """What a translation must keep: the glossary's term for each of its English terms, every inline code span
    and number of the English (the errata stay exact), and exactly the English's ``{placeholders}``."""
    problems, prose = [], CODE_SPAN.sub("", FENCE.sub("", english))
    for quoted in QUOTED.finditer(prose):  # a title or a tag quoted as it is: no term in it to translate
        if "".join(quoted.groups("")) in chinese:
            prose = prose.replace(quoted[0], "")
    for term, choices in terms.items():
        if re.search(rf"(?<![\w`'\"./{{*]){re.escape(term)}(?:e?s)?(?![\w`'\"}}])", prose, re.I) and \
                not any(c in chinese for c in choices):
            problems.append(f"{where}: {term!r} is translated without the glossary's {' / '.join(choices)}")
    blocks = [{COMMENT.sub("", block) for block in FENCE.findall(text)} for text in (english, chinese)]
    for kept in sorted(blocks[0] - blocks[1]):  # its comments may be translated, nothing else
        problems.append(f"{where}: the code block {kept.splitlines()[1]!r}... of the English differs in the "
                        "translation")
    spans = [set(CODE_SPAN.findall(FENCE.sub("", text))) for text in (english, chinese)]
    for kept in sorted(spans[0] - spans[1]):
        problems.append(f"{where}: the code {kept} of the English is missing from the translation")
    for number in sorted(set(NUMBER.findall(english)) - set(NUMBER.findall(chinese))):
        problems.append(f"{where}: the number {number} of the English is missing from the translation")
    return problems


def lesson_problems(lang: str = "zh") -> list[str]:
    """Every cell of the lessons without a current, faithful ``lang`` translation."""
    terms, found = glossary(), []
    for name in lesson_names():
        path = SOLUTIONS / f"{name}.py"
        where = path.relative_to(ROOT).as_posix()
        matched, missing = pairs(path.read_text(encoding="utf-8"), lang, where)
        found += missing
        found += [problem for english, mine in matched if mine is not None and mine.signed == english_hash(english)
                  for problem in faithful(f"{where}:{mine.line}", english.text, mine.text, terms)]
    return found


README_SIGNED = re.compile(r"^<!-- translated from the English of hash (?P<hash>[0-9a-f]+) -->\n")
