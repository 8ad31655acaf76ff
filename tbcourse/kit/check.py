"""The last cell of every lesson: check your work from inside the notebook.

``check("NN_topic")`` copies the notebook's code into its script (the file the grader reads), grades
that lesson and prints its scorecard. The build writes the cell (``tbcourse.authoring.build``).
"""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tbcourse.grading.notebooks import sync
from tbcourse.i18n import _
from tbcourse.settings import ROOT


def check(lesson: str, folder=None) -> int:
    """From inside the lesson's notebook: sync it to its script, grade that lesson, print the scorecard.

    ``folder`` is the one holding the notebook and script (default: the kernel's working folder, which
    Jupyter sets to the notebook's). Returns the grader's exit code (0: full marks).
    """
    folder = Path(folder or Path.cwd()).resolve()
    notebook, script = folder / f"{lesson}.ipynb", folder / f"{lesson}.py"
    if not script.exists():
        print(_("{script} does not exist: open the notebook from its lessons folder (where {lesson}.py is)").format(
            script=script, lesson=lesson))
        return 2
    if notebook.exists():
        saved = time.strftime("%H:%M:%S", time.localtime(notebook.stat().st_mtime))
        print(_("checking {notebook} as saved at {time} (save the notebook first to check your latest edits)").format(
            notebook=notebook.name, time=saved))
    for line in sync(folder):
        print(line)
    with tempfile.TemporaryDirectory() as tmp:  # the report and the tests' log are of no use after this
        report = Path(tmp) / "grade.json"
        proc = subprocess.run([sys.executable, "-m", "tbcourse.grading.grade", "--work", str(folder), "--lesson",
                               lesson[:2], "--report", str(report)], cwd=ROOT,
                              capture_output=True, text=True, encoding="utf-8", stdin=subprocess.DEVNULL)
    shown = [line for line in proc.stdout.splitlines(keepends=True) if str(report) not in line]
    print("".join(shown), end="")
    if proc.returncode not in (0, 1):  # 1 is "not full marks"; anything else is the grader failing
        print(_("the grader failed (exit code {code}):").format(code=proc.returncode) + f"\n{proc.stderr[-3000:]}")
    return proc.returncode

