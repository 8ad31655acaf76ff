"""What a student trips over besides the exercises: set-up, the commands the READMEs name, cleaning up, handing
in, and the scorecard's reason for an error that is not the student's TODO."""
import re
import shutil
import subprocess

import pytest

import tbcourse.__main__ as cli
from tbcourse.grading.plugin import reason
from tbcourse.settings import ROOT

STUDENT = ROOT / "tbcourse" / "authoring" / "student"
GIT = ["git", "-c", "user.name=Course", "-c", "user.email=course@example.invalid", "-c", "init.defaultBranch=main"]


def test_setup_leaves_the_stamp_make_looks_for(tmp_path, monkeypatch, capsys):
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    monkeypatch.setattr(cli, "VENV", venv)
    monkeypatch.setattr(cli, "VENV_STAMP", venv / ".installed")
    monkeypatch.setattr(cli, "venv_python", lambda: venv / "bin" / "python")
    monkeypatch.setattr(cli.subprocess, "call", lambda *args, **kwargs: 0)  # pip, as if it had installed
    assert cli.setup(dev=False) == 0
    assert (venv / ".installed").exists(), "setup leaves no .venv/.installed: the first make rebuilds the venv"
    stamp = re.search(r"^STAMP\s*:=\s*(\S+)", (STUDENT / "Makefile").read_text(), re.M)[1]
    assert stamp == ".venv/.installed" and "python3 -m tbcourse test" in capsys.readouterr().out


@pytest.mark.parametrize("readme", [ROOT / "README.md", STUDENT / "README.md"])
def test_the_readmes_name_the_course_commands_as_their_table_does(readme):
    """The set-up table says python3 (py -3.11 on Windows); the text must not say python."""
    text = readme.read_text(encoding="utf-8").split("## Grading a class")[0]
    assert "python3 -m tbcourse setup" in text
    said = re.findall(r"(?<![\w/.])python -m tbcourse\S*", text)
    assert not said, f"{readme.name} says {said[:3]}, its table python3 -m tbcourse"


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("makefile", [ROOT / "Makefile", STUDENT / "Makefile"])
def test_make_clean_keeps_the_progress_record(tmp_path, makefile):
    shutil.copy(makefile, tmp_path / "Makefile")
    (tmp_path / "reports" / "grades").mkdir(parents=True)
    for name in ("progress.json", "hints.json", "grade.json", "grades/alice.json"):
        (tmp_path / "reports" / name).write_text("{}", encoding="utf-8")
    (tmp_path / "runs").mkdir()
    subprocess.run(["make", "clean"], cwd=tmp_path, check=True, capture_output=True, timeout=60)
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["Makefile", "reports/hints.json", "reports/progress.json"], left


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_handing_in_lessons_leaves_the_notebook_backups_out(tmp_path):
    shutil.copy(STUDENT / "gitignore", tmp_path / ".gitignore")
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "01_add_image.py").write_text("# mine\n", encoding="utf-8")
    (tmp_path / "lessons" / "01_add_image.py.20260101-120000.bak").write_text("# old\n", encoding="utf-8")
    subprocess.run([*GIT, "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*GIT, "add", "lessons"], cwd=tmp_path, check=True)  # the README's hand-in step
    staged = subprocess.run([*GIT, "diff", "--cached", "--name-only"], cwd=tmp_path, capture_output=True, text=True,
                            check=True).stdout.split()
    assert staged == ["lessons/01_add_image.py"], staged


def raised(error):
    try:
        raise error
    except Exception:
        return pytest.ExceptionInfo.from_current()


def test_not_done_yet_only_for_a_todo():
    assert reason(raised(NotImplementedError("TODO(01.2): return the pixels"))).startswith("not done yet: TODO(01.2)")
    said = reason(raised(NotImplementedError("Could not run 'aten::foo' with arguments from the 'Meta' backend")))
    assert said.startswith("NotImplementedError: Could not run"), said
