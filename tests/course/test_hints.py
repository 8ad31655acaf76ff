"""Hints in levels: two or three per exercise, none holding a line of an answer."""
import pytest

from tbcourse.authoring.release import solution_lines
from tbcourse.grading.manifest import exercises

MANIFEST = exercises()


def answer_lines_in(hints: dict[str, list[str]]) -> list[str]:
    """Each hint level holding a line of an answer (the release's rule): ``ex level n: 'line' (where)``."""
    answers = solution_lines()
    return [f"{ex} level {n}: {answer!r} ({where})" for ex, levels in hints.items()
            for n, text in enumerate(levels, start=1) for answer, where in answers.items() if answer in text]


@pytest.mark.parametrize("ex", sorted(MANIFEST))
def test_every_exercise_has_two_or_three_levels(ex):
    hints = MANIFEST[ex].hints
    assert isinstance(hints, list) and 2 <= len(hints) <= 3, f"{ex}: expected 2 or 3 hint levels, found {hints!r}"
    assert all(isinstance(text, str) and text.strip() for text in hints), f"{ex}: an empty hint level in {hints!r}"
    assert len(set(hints)) == len(hints), f"{ex}: a level repeats another: {hints!r}"


def test_no_level_holds_a_line_of_an_answer():
    found = answer_lines_in({ex: info.hints for ex, info in MANIFEST.items()})
    assert not found, f"{len(found)} hint levels hand over a line of an answer:\n" + "\n".join(found)


def test_a_line_of_an_answer_in_a_hint_is_found():
    answer, where = next(iter(solution_lines().items()))
    assert answer_lines_in({"00.1": ["Look at the recap.", f"Write {answer} there."]}) == \
        [f"00.1 level 2: {answer!r} ({where})"]
