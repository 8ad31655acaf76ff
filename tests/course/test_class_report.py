"""The instructor's desk without grading anyone: the gradebook for spreadsheets and LMSs (roster, maxima,
overrides, BOM, the LMS export), the class report as headless Chromium shows it, submissions as LMSs deliver
them, the Makefile's quoting of paths, and where `setup` takes torch from. The records here are made up, with
random points; a real class is graded in test_gradebook.py and test_class_intake.py."""
import csv
import random
import re
import subprocess
import warnings
import zipfile

import pytest

from tbcourse.__main__ import torch_first
from tbcourse.authoring import screenshots
from tbcourse.grading import book
from tbcourse.grading.class_report import public_and_hidden, summary, write_report
from tbcourse.grading.delivery import delivered
from tbcourse.grading.gradebook import grading_inputs
from tbcourse.grading.intake import Ambiguous, canonical, lesson_files
from tbcourse.grading.manifest import exercises, graded_points, hidden_checks
from tbcourse.settings import ROOT, TESTED_PINS, TORCH_CPU_INDEX

POINTS = graded_points()
HIDDEN = hidden_checks()
REASONS = {  # what a failure says, with numbers that differ from student to student
    "01.2": "displayed_pixels(img) has shape ({n}, {n}, 3); expected ({m}, {m}, 3)",
    "02.3": "normalize_image: max is {n}.{m}, expected 1.0",
}


def record(student: str, passed: set[str], rng: random.Random, public_only: frozenset = frozenset()) -> dict:
    """A made-up grade: the exercises in ``passed`` passed, those in ``public_only`` passed in their public checks
    and failed in their hidden ones, the rest failed."""
    results = {}
    for ex, info in exercises().items():
        ok, hidden = ex in passed, HIDDEN.get(ex, {"points": 0})["points"]
        reason = REASONS.get(ex, "not done yet: TODO({n})")
        message = "" if ok else reason.format(n=rng.randint(2, 99), m=rng.randint(2, 99))
        points = POINTS[ex] if ok else POINTS[ex] - hidden if ex in public_only else 0
        results[ex] = {"lesson": info.lesson, "function": info.function, "points": points, "max": POINTS[ex],
                       "passed": ok, "message": message, "hint": "", "hidden_max": hidden,
                       "hidden_points": hidden if ok else 0}
    return {"student": student, "total": sum(r["points"] for r in results.values()), "max": sum(POINTS.values()),
            "exercises": results, "status": "graded", "files": []}


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """A made-up class of 12 (李雷 among them) plus one not graded, with a roster and overrides, written out."""
    rng, folder = random.Random(), tmp_path_factory.mktemp("desk")
    ids = list(exercises())
    names = ["李雷", "Jane Doe", "=HYPERLINK()"] + [f"student {k}" for k in range(9)]
    records = {name: record(name, {ex for ex in ids if rng.random() < 0.6} - {"01.2", "02.6"}, rng) for name in names}
    fitted = rng.choice(names[1:])  # passes 02.6's public checks, not its hidden ones
    records[fitted] = record(fitted, set(), rng, public_only=frozenset({"02.6"}))
    records["broken"] = {"student": "broken", "total": 0, "max": None, "exercises": {}, "files": [],
                         "status": "not graded: RecursionError: maximum recursion depth exceeded"}
    (folder / "roster.csv").write_text("id,name,folder\n20240001,Li Lei,李雷\n20240002,Jane Doe,Jane Doe\n",
                                       encoding="utf-8-sig")
    bonus = rng.randint(1, POINTS["02.3"])
    (folder / "overrides.csv").write_text(f"student,exercise,points,reason\n李雷,02.3,{bonus},regraded by hand\n"
                                          "Jane Doe,total,50,late penalty agreed\nnobody,01.1,2,typo\n",
                                          encoding="utf-8")
    roster, overrides = book.read_roster(folder / "roster.csv"), book.read_overrides(folder / "overrides.csv")
    reports = folder / "reports"
    table = book.write_all(records, reports, roster, overrides, ["notes.txt: matches no lesson: not graded"])
    write_report(table, reports / "class.html")
    return dict(records=records, reports=reports, table=table, bonus=bonus, folder=folder, fitted=fitted)


def sheet(path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "no byte-order mark: Excel would garble 李雷"
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


def test_the_gradebook_has_maxima_roster_overrides_and_text_headers(desk):
    table = sheet(desk["reports"] / "gradebook.csv")
    maxima, by_student = table[0], {row["student"]: row for row in table[1:]}
    titles = {ex: info.title for ex, info in exercises().items()}
    assert maxima["student"] == "(maximum)" and maxima["total"] == str(sum(POINTS.values()))
    assert all(maxima[titles[ex]] == str(POINTS[ex]) for ex in POINTS)
    assert all(not re.fullmatch(r"[\d.]+", header) for header in table[0]), "a header a spreadsheet makes a number"
    li = by_student["李雷"]
    assert (li["id"], li["name"]) == ("20240001", "Li Lei")
    assert li[titles["02.3"]] == str(desk["bonus"]) and "02.3" in li["adjustments"] and "by hand" in li["adjustments"]
    original = desk["records"]["李雷"]
    assert li["total"] == str(original["total"] - original["exercises"]["02.3"]["points"] + desk["bonus"])
    assert by_student["Jane Doe"]["total"] == "50" and "late penalty" in by_student["Jane Doe"]["adjustments"]
    assert "'=HYPERLINK()" in by_student and by_student["broken"]["status"].startswith("not graded")
    assert any("nobody" in problem for problem in desk["table"].problems), "an override that matched nothing is said"


def test_the_lms_export_is_name_id_and_total(desk):
    rows = sheet(desk["reports"] / "lms.csv")
    assert list(rows[0]) == ["Student", "SIS User ID", book.ASSIGNMENT]
    (li,) = [row for row in rows if row["SIS User ID"] == "20240001"]
    gradebook = {row.student: row for row in desk["table"].rows}
    assert (li["Student"], li[book.ASSIGNMENT]) == ("Li Lei", str(gradebook["李雷"].total))
    assert len(rows) == len(desk["records"])


def test_rewording_the_report_regrades_nobody_but_changing_the_grader_does():
    names = {path.name for path in grading_inputs()}
    assert {"grade.py", "intake.py", "notebooks.py"} <= names
    assert not names & {"book.py", "class_report.py", "labels.py", "delivery.py"}


def test_a_roster_without_its_columns_is_refused_saying_which(tmp_path):
    (tmp_path / "roster.csv").write_text("name,folder\nx,y\n", encoding="utf-8")
    with pytest.raises(book.BadInput, match="missing id"):
        book.read_roster(tmp_path / "roster.csv")
    (tmp_path / "overrides.csv").write_text("student,exercise,points,reason\nx,01.1,lots,?\n", encoding="utf-8")
    with pytest.raises(book.BadInput, match="line 2"):
        book.read_overrides(tmp_path / "overrides.csv")


def test_the_summary_names_the_hardest_exercise_and_its_commonest_reason(desk):
    text = summary(desk["table"])
    assert "12 of 13 students graded" in text and "not graded: broken" in text
    hardest = "01.2 displayed_pixels(): 0% passed; commonest reason (12): displayed_pixels(img) has shape (#, #, #)"
    assert hardest in text, text
    assert len(text.splitlines()) < 25, "more than a screen"



def test_the_report_and_summary_speak_the_language_in_force_and_no_figure_shows_empty_boxes(desk, tmp_path,
                                                                                          monkeypatch):
    monkeypatch.setenv("COURSE_LANG", "zh")
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        write_report(desk["table"], tmp_path / "class.html")
    page = (tmp_path / "class.html").read_text(encoding="utf-8")
    assert "<h1>班级报告</h1>" in page and "<h2>公开检查与隐藏检查</h2>" in page, page[:2000]
    assert "13 名学生中已评分 12 名" in summary(desk["table"])
    missing = [str(w.message) for w in shown if "missing from font" in str(w.message)]
    assert not missing, f"a figure label the fonts cannot draw: {missing[:2]}"

def test_the_report_splits_public_and_hidden_points_and_names_who_passed_the_public_checks_only(desk):
    split = public_and_hidden(desk["table"])
    assert set(split) == set(HIDDEN), "every exercise with hidden checks, and only those"
    hidden_max = sum(r["exercises"]["02.6"]["hidden_max"] for r in desk["records"].values() if r["exercises"])
    assert split["02.6"]["hidden"] == [0, hidden_max] and split["02.6"]["public only"] == [desk["fitted"]]
    page = (desk["reports"] / "class.html").read_text(encoding="utf-8")
    assert "Public and hidden checks" in page and "passed public, failed hidden" in page


@pytest.mark.skipif(bool(screenshots.missing()), reason=f"needs {screenshots.missing()}")
def test_the_class_report_opens_offline_in_chromium_with_its_plots_and_reasons(desk):
    page = (desk["reports"] / "class.html").resolve()
    assert "<script" not in page.read_text(encoding="utf-8") and "http" not in page.read_text(encoding="utf-8")
    with screenshots.browser(1200, 2400) as driver:
        driver.get(page.as_uri())
        images = driver.execute_script("return [...document.images].map(i => [i.alt, i.naturalWidth, i.complete])")
        text = driver.find_element("tag name", "body").text
        screenshots.save(driver, desk["folder"] / "class.png")
    assert len(images) == 2 and all(width > 300 and done for _, width, done in images), images
    assert "Pass rate per exercise" in text and "01.2 displayed_pixels()" in text
    assert "displayed_pixels(img) has shape (#, #, #); expected (#, #, #)" in text
    assert "broken" in text and "RecursionError" in text and "notes.txt" in text
    assert (desk["folder"] / "class.png").stat().st_size > 10_000


def test_submissions_as_lms_deliver_them_are_grouped_and_matched(tmp_path):
    flat, unpacked = tmp_path / "download", tmp_path / "unpacked"
    flat.mkdir()
    unpacked.mkdir()
    for name in ("doejane_1234_5678_02_make_grid.py", "doejane_LATE_1234_5679_01_add_image.py",
                 "Li Lei_77_assignsubmission_file_01_add_image.ipynb", "01_add_image.py", "notes.txt"):
        (flat / name).write_text(f"# {name}\n", encoding="utf-8")
    (flat / "renamed").mkdir()
    (flat / "renamed" / "01_add_image (1).py").write_text("# renamed\n", encoding="utf-8")
    (flat / "renamed" / "03_alexnet_kernels-1.py").write_text("# renamed\n", encoding="utf-8")
    with zipfile.ZipFile(flat / "ann.zip", "w") as zipped:
        zipped.writestr("course/lessons/04_feature_maps.py", "# zipped\n")
        zipped.writestr("../outside/04_feature_maps.py", "# escapes\n")
        zipped.writestr("README.md", "# not a lesson\n")
    intake = delivered(flat, unpacked)
    found = {s.name: sorted(canonical(p) for p in lesson_files(s)) for s in intake.students}
    assert found == {"renamed": ["01_add_image.py", "03_alexnet_kernels.py"], "ann": ["04_feature_maps.py"],
                     "doejane_1234": ["01_add_image.py", "02_make_grid.py"], "Li Lei_77": ["01_add_image.ipynb"]}
    assert sorted(intake.problems) == ["01_add_image.py: names no student: not graded",
                                       "notes.txt: matches no lesson: not graded"]
    assert not (tmp_path / "outside").exists() and not (unpacked / "outside").exists()
    (flat / "renamed" / "01_add_image (2).py").write_text("# another\n", encoding="utf-8")
    with pytest.raises(Ambiguous, match=re.escape("01_add_image (1).py, 01_add_image (2).py")):
        lesson_files(flat / "renamed")


@pytest.mark.parametrize("target, option, message", [
    ("grade", "SUBMISSIONS", "no student folders, zips or lesson files in {path}"),
    ("autograder-check", "SUBMISSION", "{path} is not a folder"),
    ("test", "WORK", "{path} is not a folder"),
])
def test_the_makefile_passes_a_path_with_spaces_parentheses_and_quotes_whole(tmp_path, target, option, message):
    path = tmp_path / "my class (spring) it's"
    if target == "grade":
        path.mkdir()
    proc = subprocess.run(["make", "-s", "-o", ".venv/.installed", "-o", "autograder", target, f"{option}={path}",
                           "TRUSTED=1"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert message.format(path=path) in proc.stderr, proc.stderr


def test_setup_takes_torch_from_the_cpu_index_on_linux_without_a_gpu_driver():
    cpu = ["install", "--index-url", TORCH_CPU_INDEX, *TESTED_PINS]
    assert torch_first("auto", "Linux", nvidia=False) == cpu
    assert torch_first("auto", "Linux", nvidia=True) == []
    assert torch_first("auto", "Windows", nvidia=False) == torch_first("auto", "Darwin", nvidia=False) == []
    assert torch_first("pypi", "Linux", nvidia=False) == [] and torch_first("cpu", "Linux", nvidia=True) == cpu


@pytest.mark.parametrize("choice, code", [("auto", 0), ("cpu", 1)])
def test_setup_falls_back_to_pypi_only_when_the_cpu_index_was_not_asked_for(monkeypatch, capsys, choice, code):
    """Offline but for a PyPI mirror, torch's CPU index is out of reach: `auto` goes on with PyPI's torch, an
    explicit `--torch cpu` stops with pip's exit code."""
    import tbcourse.__main__ as cli

    calls = []
    monkeypatch.setattr(cli, "nvidia_driver", lambda: False)
    monkeypatch.setattr(cli.platform, "system", lambda: "Linux")
    monkeypatch.setattr(cli, "venv_python", lambda: ROOT / "requirements.txt")  # exists: no venv is made
    monkeypatch.setattr(cli.subprocess, "call", lambda args: calls.append(args) or int(TORCH_CPU_INDEX in args))
    assert cli.setup(dev=False, torch=choice) == code
    assert any("-e" in args for args in calls) == (code == 0)
    assert ("torch comes from PyPI instead" in capsys.readouterr().out) == (code == 0)
