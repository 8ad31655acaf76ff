"""Hints in levels: two or three per exercise, none holding a line of an answer; the scorecard shows one hint
per lesson with failures, the first level of its first failing exercise; `python -m tbcourse hint` gives the
levels one at a time, remembers how far a student got, repeats the last, starts over, and refuses unknown ids."""
import json
import subprocess
import sys
from dataclasses import asdict

import pytest

from tbcourse.authoring.leaks import solution_lines
from tbcourse.grading.grade import score, scorecard
from tbcourse.grading.manifest import exercises
from tbcourse.settings import ROOT

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


def test_the_scorecard_shows_one_hint_per_lesson_with_failures():
    failing = ["00.2", "00.3", "02.1", "02.4", "02.6", "05.2"]  # lessons 00, 02 and 05 fail; the others pass
    tests = {f"tests/graded/test_x.py::test_{ex.replace('.', '_')}[0]":
             {"exercise": ex, "points": 1, "passed": ex not in failing, "message": f"why {ex} failed"}
             for ex in MANIFEST}
    results = {ex: asdict(result) for ex, result in score(tests).items()}  # what grade.json holds
    first = {"00.2", "02.1", "05.2"}
    assert {ex: r["hint"] for ex, r in results.items() if r["hint"]} == {ex: MANIFEST[ex].hints[0] for ex in first}
    card = scorecard(results)
    shown = [line.strip() for line in card.splitlines() if line.strip().startswith("hint:")]
    assert shown == [f"hint: {MANIFEST[ex].hints[0]} (step by step: python -m tbcourse hint {ex})"
                     for ex in sorted(first)], card
    assert all(f"why {ex} failed" in card for ex in failing), card
    assert card.splitlines()[-1] == f"total: {len(MANIFEST) - len(failing)}/{len(MANIFEST)} points", card


def hint(seen, *args):
    """``python -m tbcourse hint ARGS`` with its memory in ``seen``, run as a student would: Python, no make."""
    return subprocess.run([sys.executable, "-m", "tbcourse", "hint", *args, "--seen", str(seen)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def said(proc) -> str:
    """The output on one line: a hint may be wrapped."""
    return " ".join(proc.stdout.split())


def test_the_hint_command_advances_remembers_repeats_the_last_and_resets(tmp_path):
    seen = tmp_path / "reports" / "hints.json"
    levels = MANIFEST["02.3"].hints
    for n, text in [*enumerate(levels, start=1), (len(levels), levels[-1])]:
        proc = hint(seen, "02.3")
        assert proc.returncode == 0, proc.stderr
        assert f"hint {n} of {len(levels)}" in said(proc) and " ".join(text.split()) in said(proc), proc.stdout
        assert ("last hint" in said(proc)) == (n == len(levels)), proc.stdout
    assert json.loads(seen.read_text(encoding="utf-8")) == {"02.3": len(levels)}
    assert MANIFEST["04.2"].hints[0] in said(hint(seen, "04.2")), "another exercise starts at its own first level"

    assert hint(seen, "--reset", "02.3").returncode == 0
    assert json.loads(seen.read_text(encoding="utf-8")) == {"04.2": 1}
    assert f"hint 1 of {len(levels)}" in said(hint(seen, "02.3"))
    assert hint(seen, "--reset").returncode == 0
    assert json.loads(seen.read_text(encoding="utf-8")) == {}


@pytest.mark.parametrize("wrong", ["2.3", "02.9", "make_grid", None])
def test_the_hint_command_refuses_what_is_not_an_exercise(tmp_path, wrong):
    seen = tmp_path / "hints.json"
    proc = hint(seen, *([wrong] if wrong else []))
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout
    assert len(proc.stderr.splitlines()) == 1 and "NN.k" in proc.stderr and "02.1-02.6" in proc.stderr, proc.stderr
    assert not seen.exists(), "a refused id must not be remembered"
