"""The warm checking process of `make grade` (tbcourse.grading.checker): students graded one after another in
one process each get their own grade, leave nothing running behind them, and a checker that dies costs the
student it was grading only; a session run in a warm process leaves it as it found it."""
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tbcourse.grading.checker import Checker
from tbcourse.grading.gradebook import ONE_THREAD, grade_student
from tbcourse.settings import ROOT

SOLUTION = (ROOT / "solutions" / "01_add_image.py").read_text()
STUB = (ROOT / "lessons" / "01_add_image.py").read_text()

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap: apt-get install bubblewrap")


def student(tmp_path: Path, name: str, lesson: str) -> Path:
    folder = tmp_path / "class" / name
    folder.mkdir(parents=True)
    (folder / "01_add_image.py").write_text(lesson)
    return folder


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            pass
    return found


@needs_bwrap
def test_students_in_turn_get_their_own_grades_and_leave_no_worker_behind(tmp_path):
    checker, reports = Checker(ONE_THREAD), tmp_path / "reports"
    try:
        for name, lesson, total in [("first", SOLUTION, 9), ("second", STUB, 0), ("third", SOLUTION, 9)]:
            record = grade_student(student(tmp_path, name, lesson), reports, "01", 20, "bwrap", checker)
            assert (record["status"], record["total"]) == ("graded", total), f"{name}: {record}"
            assert children(checker.process.pid) == [], f"{name}'s worker outlived its grade"
    finally:
        checker.close()


def test_a_checker_killed_in_the_middle_of_a_grade_costs_that_student_only(tmp_path, monkeypatch):
    private = tmp_path / "tmp"  # the grade's temporary folder, and its record, where no other grade's are
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    checker, reports, result, since = Checker(ONE_THREAD), tmp_path / "reports", {}, time.time()
    slow = student(tmp_path, "slow", "import time\ntime.sleep(1)\n" + SOLUTION)  # each call takes 1 s
    thread = threading.Thread(target=lambda: result.update(record=grade_student(slow, reports, "01", 20, None,
                                                                                checker)))
    try:
        thread.start()
        killed, deadline = False, time.monotonic() + 300
        while not killed and time.monotonic() < deadline and thread.is_alive():
            if any('"event": "result"' in _read(path) for path in records(since)):
                checker.process.kill()  # a test has ended, the others have not
                killed = True
            time.sleep(0.05)
        thread.join(300)
        assert killed, "never saw the checker grade"
        assert result["record"]["status"] == "not graded: the grading process died; run make grade again"
        assert not (reports / "grades" / "slow.json").exists(), "a grade whose process died was cached"
        record = grade_student(student(tmp_path, "next", SOLUTION), reports, "01", 20, None, checker)
        assert (record["status"], record["total"]) == ("graded", 9), record
    finally:
        checker.close()


def records(since: float) -> list[Path]:
    """The verdict records of this process's grades begun since then (the grade's temporary folder holds its
    record)."""
    found = []
    for path in Path(tempfile.gettempdir()).glob("course-grade-*/record.jsonl"):
        try:
            if path.stat().st_mtime >= since:
                found.append(path)
        except OSError:  # that grade ended, and its folder went with it
            pass
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


RUN_TWICE = """
import gc, os, sys
from pathlib import Path
from tbcourse.grading.checker import run_in_process
test, log = Path(sys.argv[1]), Path(sys.argv[2])
before = (dict(os.environ), os.fstat(1).st_ino, os.fstat(2).st_ino)
args = [str(test), "-p", "tbcourse.grading.plugin", "-p", "no:cacheprovider", "-q"]
codes = [run_in_process(args, {"SESSION_ONLY": "1"}, log) for _ in range(2)]
after = (dict(os.environ), os.fstat(1).st_ino, os.fstat(2).st_ino)
print(codes, before == after, gc.get_freeze_count(), gc.isenabled())
"""


def test_a_session_run_in_process_leaves_the_process_as_it_found_it(tmp_path):
    """make watch and a class's checker run one session after another: each gets its environment and output for
    itself only, and the objects the plugin froze during a session can be collected after it."""
    test = tmp_path / "test_01_add_image.py"  # named after a lesson, as the plugin wants
    test.write_text("import gc, os\nimport pytest\n\n@pytest.mark.exercise('01.1', points=1)\ndef test_env():\n"
                    "    assert os.environ['SESSION_ONLY'] == '1' and gc.get_freeze_count() > 0\n")
    out = subprocess.run([sys.executable, "-c", RUN_TWICE, str(test), str(tmp_path / "log")], capture_output=True,
                         text=True, cwd=tmp_path, timeout=120)
    assert out.stdout.split() == ["[0,", "0]", "True", "0", "True"], out.stdout + out.stderr
    assert (tmp_path / "log").read_text().count("1 passed") == 2
