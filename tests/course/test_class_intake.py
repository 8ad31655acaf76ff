"""One submission never stops the class: attacks on what `make grade` reads of a submission, beside an honest
student, graded in one run (lesson 01) and again on a rerun.

With them, work as an LMS delivers it: a Canvas-renamed file of a flat download, a zip, and a file that is
nobody's, reported by name. Each attack is bounded (at most 1,100 folders, 60 KB of brackets) and is the honest lesson 01 plus what once
made `make grade` exit with no gradebook for anyone: a tree of nested folders deeper than Python's recursion
limit, a script that is not UTF-8 beside a notebook of the same lesson, a notebook-sync record of nested
brackets; and a folder name of raw terminal escapes, which must never reach the instructor's terminal. Each
attacker gets exactly what its honest part earns, a student whose files cannot be told apart gets a row
saying why, the gradebook is complete on every run, and `git status` stays clean. Student code runs trusted
here: the attacks are on the grader's own reading, not on the boundary (tests/course/test_boundary.py).
"""
import csv
import json
import os
import subprocess
import sys

import zipfile

import jupytext
import pytest

from tbcourse.grading.notebooks import STATE, to_notebook
from tbcourse.settings import ROOT

SOLUTION = (ROOT / "solutions" / "01_add_image.py").read_text(encoding="utf-8")
STUB = (ROOT / "lessons" / "01_add_image.py").read_text(encoding="utf-8")
FULL = {"01.1": 2, "01.2": 5, "01.3": 2}
DEPTH = 1100  # folders: past Python's recursion limit (1000)
ESCAPED = "evil\x1b[2J\x1b]0;pwned\x07\x1b[31mname"  # clear screen, set the window title, red


def deep_tree(top, depth: int) -> str:
    """``top`` and ``depth`` nested folders below it, made without recursion; the deepest one's path."""
    path = str(top)
    os.mkdir(path)
    for _ in range(depth):
        path = os.path.join(path, "d")
        os.mkdir(path)
    return path


def remove_deep_tree(top, depth: int) -> None:
    """Remove what ``deep_tree`` made, deepest first (shutil.rmtree would recurse)."""
    paths = [str(top)]
    for _ in range(depth):
        paths.append(os.path.join(paths[-1], "d"))
    for path in reversed(paths):
        if os.path.isdir(path):
            for name in os.listdir(path):
                if not os.path.isdir(os.path.join(path, name)):
                    os.unlink(os.path.join(path, name))
            os.rmdir(path)


def build_class(submissions):
    """student -> the points per exercise its honest part earns (None: not graded, saying why)."""
    expected = {}
    honest = submissions / "honest"
    honest.mkdir(parents=True)
    (honest / "01_add_image.py").write_text(SOLUTION, encoding="utf-8")
    expected["honest"] = FULL

    deep = submissions / "deep_folders"  # its lesson at the top, a stub at the bottom of 1,100 folders
    deep.mkdir()
    (deep / "01_add_image.py").write_text(SOLUTION, encoding="utf-8")
    with open(os.path.join(deep_tree(deep / "tree", DEPTH), "01_add_image.py"), "w", encoding="utf-8") as out:
        out.write(STUB)
    expected["deep_folders"] = FULL

    windows = submissions / "not_utf8"  # its notebook is its work; the script was saved in a Windows code page
    windows.mkdir()
    (windows / "01_add_image.py").write_bytes("# café, naïve: notes in cp1252\n".encode("cp1252") + STUB.encode())
    jupytext.write(to_notebook(SOLUTION), windows / "01_add_image.ipynb", fmt="ipynb")
    expected["not_utf8"] = FULL

    nested = submissions / "nested_record"  # 30,000 nested brackets: 60 KB, past json's recursion limit
    nested.mkdir()
    (nested / "01_add_image.py").write_text(SOLUTION, encoding="utf-8")
    jupytext.write(to_notebook(SOLUTION), nested / "01_add_image.ipynb", fmt="ipynb")
    (nested / STATE).write_text("[" * 30000 + "]" * 30000, encoding="utf-8")
    expected["nested_record"] = FULL

    escaped = submissions / ESCAPED
    escaped.mkdir()
    (escaped / "01_add_image.py").write_text(SOLUTION, encoding="utf-8")
    expected[ESCAPED] = FULL

    twice = submissions / "two_copies"  # two downloads of one lesson, and no file under its own name
    twice.mkdir()
    (twice / "01_add_image (1).py").write_text(STUB, encoding="utf-8")
    (twice / "01_add_image (2).py").write_text(SOLUTION, encoding="utf-8")
    expected["two_copies"] = None

    # as an LMS delivers work: a Canvas-renamed file in the flat download, a zip, and a file of nobody's
    (submissions / "doejane_1234_5678_01_add_image.py").write_text(SOLUTION, encoding="utf-8")
    expected["doejane_1234"] = FULL
    with zipfile.ZipFile(submissions / "ann.zip", "w") as zipped:
        zipped.writestr("course-main/lessons/01_add_image.py", SOLUTION)
        zipped.writestr("course-main/README.md", "mine\n")
    expected["ann"] = FULL
    (submissions / "notes.txt").write_text("of nobody's\n", encoding="utf-8")
    return expected


def git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("intake")
    submissions, reports = folder / "class", folder / "reports"
    expected = build_class(submissions)
    status = git_status()
    command = [sys.executable, "-m", "tbcourse.grading.gradebook", str(submissions), "--reports", str(reports),
               "--lesson", "01", "--timeout", "20", "--trusted", "--jobs", "2"]
    try:
        first = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=ROOT)
        kept = {p.name: p.stat().st_mtime_ns for p in (reports / "grades").glob("*.json")}
        second = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=ROOT)
        yield dict(expected=expected, reports=reports, runs=[first, second], status=status, kept=kept)
    finally:
        remove_deep_tree(submissions / "deep_folders" / "tree", DEPTH)


def rows(reports) -> dict[str, dict]:
    table = csv.DictReader((reports / "gradebook.csv").read_text(encoding="utf-8-sig").splitlines())
    return {row["student"]: {key.split(" ")[0]: value for key, value in row.items()} for row in table
            if row["student"] != "(maximum)"}


def test_every_run_ends_with_a_complete_gradebook(graded):
    for run in graded["runs"]:
        assert run.returncode == 0, run.stderr[-3000:]
    book = rows(graded["reports"])
    shown = {name.encode("unicode_escape").decode() if "\x1b" in name else name for name in graded["expected"]}
    assert set(book) == shown


def test_each_attacker_gets_exactly_what_its_honest_part_earns(graded):
    book = rows(graded["reports"])
    for student, points in graded["expected"].items():
        row = book[student.encode("unicode_escape").decode() if "\x1b" in student else student]
        if points is None:
            continue
        got = {ex: int(row[ex]) for ex in FULL}
        assert (got, row["status"]) == (points, "graded"), f"{student!r}: {row}"


def test_a_student_whose_grading_fails_gets_a_row_saying_why_and_nothing_cached(graded):
    row = rows(graded["reports"])["two_copies"]
    assert row["status"].startswith("not graded: ") and "01_add_image (1).py, 01_add_image (2).py" in row["status"]
    assert row["total"] == "0"
    assert not (graded["reports"] / "grades" / "two_copies.json").exists(), "a failed grading was cached"
    assert "two_copies" in (graded["reports"] / "class.html").read_text(encoding="utf-8")


def test_a_file_of_nobody_is_named_and_the_summary_printed(graded):
    first = graded["runs"][0].stdout
    assert "intake: notes.txt: matches no lesson: not graded" in first
    assert "7 of 8 students graded" in first and "not graded: two_copies" in first
    assert "notes.txt" in (graded["reports"] / "class.html").read_text(encoding="utf-8")


def test_the_notebook_of_a_script_that_is_not_utf8_is_graded_and_said(graded):
    record = json.loads((graded["reports"] / "grades" / "not_utf8.json").read_text(encoding="utf-8"))
    assert any("not UTF-8" in line for line in record["synced"]), record["synced"]


def test_no_terminal_escape_reaches_the_instructor(graded):
    for run in graded["runs"]:
        assert "\x1b" not in run.stdout + run.stderr and "\x07" not in run.stdout + run.stderr
    assert "\x1b" not in (graded["reports"] / "gradebook.csv").read_text(encoding="utf-8-sig")
    assert "evil\\x1b[2J" in graded["runs"][0].stdout


def test_the_rerun_regrades_nothing_and_the_course_is_untouched(graded):
    first, second = graded["runs"]
    assert "[8/8]" in first.stdout and "[8/8]" in second.stdout
    assert len(graded["kept"]) == 7, graded["kept"]
    assert {p.name: p.stat().st_mtime_ns for p in (graded["reports"] / "grades").glob("*.json")} == graded["kept"]
    assert git_status() == graded["status"], "grading changed the course's tree"
