"""The student release (`make release DEST=dir`): what it holds and what not, no line of an answer in it,
and a clone of it grades itself: zero for its untouched lessons, full marks with the solutions copied in.
Grading a clone uses this venv with the clone's own code (PYTHONPATH), not a venv of its own."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from tbcourse.authoring.leaks import leaks, solution_lines
from tbcourse.authoring.release import main, release
from tbcourse.grading.manifest import exercises, graded_points, hidden_checks
from tbcourse.settings import GRADED_TESTS, HIDDEN_SUMMARY, KEYS, ROOT, SOLUTIONS, lesson_names


STUDENT_TARGETS = {"help", "setup", "run", "test", "hint", "tensorboard", "notebooks", "clean", "watch", "progress"}
GIT = ["git", "-c", "user.name=Course", "-c", "user.email=course@example.invalid", "-c", "commit.gpgsign=false",
       "-c", "init.defaultBranch=main"]


def files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def names(folder):
    return {p.name for p in folder.iterdir()}


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    dest = tmp_path_factory.mktemp("release") / "course"
    release(dest)
    return dest


@pytest.fixture(scope="module")
def repository(released, tmp_path_factory):
    """A copy of the release, committed as it is."""
    repo = shutil.copytree(released, tmp_path_factory.mktemp("repository") / "course")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "Course release"]):
        subprocess.run([*GIT, *command], cwd=repo, check=True, capture_output=True)
    return repo


@pytest.fixture(scope="module")
def clone(repository, tmp_path_factory):
    """What a student gets: a clone of the committed release."""
    target = tmp_path_factory.mktemp("student") / "course"
    subprocess.run([*GIT, "clone", "-q", str(repository), str(target)], check=True, capture_output=True)
    return target


def grade(clone, report, env=None):
    """The clone's own grader on its lessons/, run with this venv's Python (and ``env`` added)."""
    env = {**os.environ, "PYTHONPATH": str(clone), "COURSE_OFFLINE": "1", **(env or {})}
    imported = subprocess.run([sys.executable, "-c", "import tbcourse; print(tbcourse.__file__)"], cwd=clone, env=env,
                              capture_output=True, text=True, check=True).stdout
    assert imported.startswith(str(clone)), f"the grade would run the course's code, not the clone's: {imported}"
    command = [sys.executable, "-m", "tbcourse.grading.grade", "--work", "lessons", "--report", str(report)]
    proc = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=1800)
    assert report.exists(), f"the grader wrote no report:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc, json.loads(report.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def grades(clone, tmp_path_factory):
    """The clone graded twice: its lessons untouched, then with the solutions' lesson files copied over them."""
    reports = tmp_path_factory.mktemp("reports")
    untouched = grade(clone, reports / "untouched.json")
    for name in lesson_names():
        shutil.copy2(SOLUTIONS / f"{name}.py", clone / "lessons" / f"{name}.py")
    return untouched, grade(clone, reports / "solved.json")


def test_the_release_holds_what_students_need_and_nothing_else(released):
    assert names(released) == {".devcontainer", ".gitignore", ".github", "Makefile", "README.md", "data", "docs",
                               "exercises.toml", "lessons", "pyproject.toml", "requirements.txt", "tbcourse", "tests"}
    assert files(released / ".devcontainer") == ["devcontainer.json"]  # tests/course/test_devcontainer.py checks it
    assert files(released / ".github") == ["workflows/classroom.yml"]  # tests/course/test_classroom.py runs it
    assert names(released / "tbcourse") == {"__init__.py", "__main__.py", "settings.py", "i18n.py", "locale", "kit",
                                           "grading", "runner", "platforms"}
    assert names(released / "tbcourse" / "platforms") == {"__init__.py", "gradescope.py", "classroom.py"}
    assert not (released / "tbcourse" / "locale" / "LANGUAGE").exists(), "an English release must follow the locale"
    assert names(released / "tests") == {"graded"} and names(released / "docs") == {"syllabus.md"}
    assert names(released / "data") == {"README.md", "faces", "photos"}
    assert names(released / "lessons") == {f"{name}.py" for name in lesson_names()}
    graded = [f for f in files(GRADED_TESTS) if "__pycache__" not in f]
    assert files(released / "tests" / "graded") == sorted([*graded, HIDDEN_SUMMARY.name])
    assert not any("__pycache__" in f for f in files(released))
    for text in ("make_data", "tests/keys", "## How the data is made"):
        assert text not in (released / "data" / "README.md").read_text(encoding="utf-8")


def test_no_line_of_an_answer_is_anywhere_in_the_release(released):
    found = leaks(released)
    assert not found, f"{len(found)} lines of the release hold a line of an answer:\n" + "\n".join(found)


def test_a_line_of_an_answer_is_found_and_placed(tmp_path):
    answer, where = next(iter(solution_lines().items()))
    (tmp_path / "hints.toml").write_text(f'[a]\nhint = "Try {answer} here"\n', encoding="utf-8")
    found = leaks(tmp_path)
    assert found[0] == f"hints.toml:2: {answer!r} ({where})", found
    assert all(line.startswith("hints.toml:2: recipe ") for line in found[1:]), found  # the same line, in tokens


@pytest.mark.parametrize("recipe", [
    "TODO(06.4): n_params * bytes_per_param / 1024**2",  # the stubs as they were: each is its answer
    "TODO(03.2): make_grid of w[out_idx].unsqueeze(1), nrow=c_in, normalize=True, scale_each=True",
    "then `(x - low) / max(high - low, 1e-5)`; the input is left unchanged",  # the syllabus's 02.3
])
def test_a_recipe_in_other_words_is_found(tmp_path, recipe):
    (tmp_path / "notes.md").write_text(f"# Notes\n\n{recipe}\n", encoding="utf-8")
    found = leaks(tmp_path)
    assert found and all(line.startswith("notes.md:3: recipe ") for line in found), found


def test_the_release_is_a_git_repository_with_nothing_left_out(released, repository):
    tracked = subprocess.run([*GIT, "ls-files"], cwd=repository, capture_output=True, text=True, check=True).stdout
    assert tracked.splitlines() == files(released), "git left out files of the release (.gitignore?)"
    status = subprocess.run([*GIT, "status", "--porcelain", "--ignored"], cwd=repository, capture_output=True,
                            text=True, check=True).stdout
    assert status == "", f"not committed, or ignored: {status}"


def test_the_students_makefile_has_only_their_targets(released):
    makefile = (released / "Makefile").read_text(encoding="utf-8")
    assert set(re.findall(r"^([a-z]+):", makefile, re.M)) == STUDENT_TARGETS
    listed = subprocess.run(["make", "help"], cwd=released, capture_output=True, text=True, check=True).stdout
    assert set(re.findall(r"^  make (\w+)", listed, re.M)) == STUDENT_TARGETS, listed
    readme = (released / "README.md").read_text(encoding="utf-8")
    for command in ("py -3.11 -m tbcourse setup", "python3 -m tbcourse setup", "python3 -m tbcourse test --lesson 01",
                    "python3 -m tbcourse watch --lesson 01", "python3 -m tbcourse hint 01.2",
                    "python3 -m tbcourse progress", "python3 -m tbcourse run --lesson 01",
                    "python3 -m tbcourse tensorboard", "Open in a dev container", "git push"):
        assert command in readme, f"the students' README does not say {command!r}"
    assert "## Troubleshooting" in readme and all(f"\n| {name[:2]} | " in readme for name in lesson_names())


def test_no_authoring_code_is_shipped_or_imported(released):
    assert not (released / "tbcourse" / "authoring").exists()
    uses = re.compile(r"^\s*(from|import)\s+tbcourse\.authoring|-m\s+tbcourse\.authoring", re.M)
    users = [f for f in files(released) if f.endswith((".py", ".toml", "Makefile", ".md"))
             and uses.search((released / f).read_text(encoding="utf-8"))]
    assert not users, f"these files of the release use tbcourse.authoring, which it lacks: {users}"


def test_untouched_lessons_grade_zero_each_on_its_own_todo(grades):
    (proc, report), _ = grades
    assert report["total"] == 0 and report["max"] == sum(graded_points(hidden=False).values()), proc.stdout[-3000:]
    assert set(report["exercises"]) == set(exercises()), proc.stdout[-3000:]
    for ex, result in report["exercises"].items():
        assert f"TODO({ex})" in result["message"], f"{ex}: {result['message']}"


def test_the_solutions_copied_in_earn_full_marks(grades):
    _, (proc, report) = grades
    failed = {ex: r["message"] for ex, r in report["exercises"].items() if not r["passed"]}
    assert not failed and proc.returncode == 0, f"lost points: {failed}\n{proc.stdout[-3000:]}"
    assert report["total"] == report["max"] == sum(graded_points(hidden=False).values())
    waiting = {ex: (r["hidden_later"], r["hidden_later_points"]) for ex, r in report["exercises"].items() if r["hidden_later"]}
    assert waiting == {ex: (entry["checks"], entry["points"]) for ex, entry in hidden_checks().items()}
    assert "hidden check" in proc.stdout and "run when your instructor grades" in proc.stdout, proc.stdout[-3000:]


def test_refuses_a_folder_that_is_not_empty_or_is_inside_the_course(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    assert main([str(tmp_path)]) == 2 and names(tmp_path) == {"notes.txt"}
    inside = ROOT / "release-test"
    assert main([str(inside)]) == 2 and not inside.exists()
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 2 and "not an empty folder" in said[0] and "inside the course" in said[1], said


def test_the_release_says_how_many_hidden_checks_wait_and_holds_none(released):
    """The summary of the hidden checks ships; their content, the answer key they read and any digest of it do not
    (the release's one data file besides the data set and the manifest is the summary)."""
    assert sorted(p.name for p in released.rglob("*.json")) == ["devcontainer.json", HIDDEN_SUMMARY.name]
    summary = json.loads((released / "tests" / "graded" / HIDDEN_SUMMARY.name).read_text(encoding="utf-8"))
    assert summary == hidden_checks() and summary["02.6"]["checks"] == 2, summary
    key = json.loads((KEYS / "faces_review.json").read_text(encoding="utf-8"))
    answers = {path for name in ("mislabeled", "leaked") for path in key[name]}
    for path in released.rglob("*"):
        if path.is_file() and path.suffix in (".py", ".json", ".md", ".toml", ".yml"):
            text = path.read_text(encoding="utf-8")
            named = [answer for answer in answers if answer in text]
            assert not named, f"{path.relative_to(released)} names {named} of 02.6's answer"


@pytest.fixture(scope="module")
def chinese_grades(tmp_path_factory):
    """A Chinese release (make release COURSE_LANG=zh), graded as it is and with the solutions copied in, in
    the language it was released in (no COURSE_LANG, an English system locale)."""
    dest = tmp_path_factory.mktemp("release-zh") / "course"
    release(dest, "zh")
    reports, env = tmp_path_factory.mktemp("reports-zh"), {"COURSE_LANG": "", "LANG": "C.UTF-8", "LC_ALL": ""}
    built = {name: (dest / "lessons" / f"{name}.py").read_text(encoding="utf-8") for name in lesson_names()}
    untouched = grade(dest, reports / "untouched.json", env)
    for name in lesson_names():
        shutil.copy2(SOLUTIONS / f"{name}.py", dest / "lessons" / f"{name}.py")
    lesson = dest / "lessons" / "02_make_grid.py"  # one wrong answer: the grid's height forgets the padding
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n\ndef grid_shape(n, c, h, w, nrow=8, padding=2):\n"
                      "    return (3, h, w)\n", encoding="utf-8")
    return dest, built, untouched, grade(dest, reports / "solved.json", env)


def test_a_chinese_release_speaks_chinese_and_grades_itself(chinese_grades):
    dest, lessons, (proc, report), (solved_proc, solved) = chinese_grades
    assert all("检查你的代码" in text and 'lang="zh"' not in text and "## Run it" not in text
               for text in lessons.values())
    assert (dest / "tbcourse" / "locale" / "LANGUAGE").read_text(encoding="utf-8").strip() == "zh"
    assert "## 设置" in (dest / "README.md").read_text(encoding="utf-8")
    assert report["total"] == 0 and "总分：0/" in proc.stdout, proc.stdout[-3000:]
    for ex, result in report["exercises"].items():
        assert result["message"].startswith(f"还没有完成：TODO({ex}): "), f"{ex}: {result['message']}"
    failed = {ex: r["message"] for ex, r in solved["exercises"].items() if not r["passed"]}
    assert set(failed) == {"02.1"} and solved["total"] == solved["max"] - graded_points()["02.1"], failed
    assert "make_grid 返回的形状是" in failed["02.1"], failed  # the graded test's own message, in Chinese too
    assert "未通过" in solved_proc.stdout and "提示：" in solved_proc.stdout, solved_proc.stdout[-3000:]
