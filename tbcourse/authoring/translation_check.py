"""Nothing drifts: every piece of the course has a current, faithful translation.

    python -m tbcourse.authoring.translation_check check   every lesson cell, message and README; 1 if any fails
    python -m tbcourse.authoring.translation_check sign    give each new translation cell the hash of its English

A lesson cell (``tbcourse.authoring.translations``), a message of the catalog
(``tbcourse.authoring.catalogs``) or the students' README (``tbcourse.authoring.release``) fails when its translation is missing, stale (made from
English that has changed since), or loses a glossary term (``docs/glossary.md``), an inline code span, a
number or a ``{placeholder}`` of the English. Each failure is one line naming the file and line.
"""
import argparse
import sys

from tbcourse.authoring import catalogs
from tbcourse.authoring.release import readme_problems
from tbcourse.authoring.translations import PLACEHOLDER, faithful, glossary, lesson_problems, sign
from tbcourse.settings import SOLUTIONS, lesson_names


def problems(lang: str = "zh") -> list[str]:
    """Every cell, message and README without a current, faithful ``lang`` translation."""
    terms, found = glossary(), lesson_problems(lang)
    found += catalogs.problems()
    for where, english, text, formatted in catalogs.translated_pairs(lang):
        found += faithful(where, english, text, terms)
        if formatted and sorted(PLACEHOLDER.findall(english)) != sorted(PLACEHOLDER.findall(text)):
            found.append(f"{where}: the placeholders of {english!r} differ in its translation {text!r}")
    return found + readme_problems(lang)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["check", "sign"])
    if parser.parse_args(argv).command == "sign":
        for name in lesson_names():
            print(f"solutions/{name}.py: signed {sign(SOLUTIONS / f'{name}.py')}")
        return 0
    found = problems()
    print("\n".join(found) if found else "every cell, message and README has a current translation")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
