"""The checks' temporary folders do not pile up in /tmp: a checker killed before it could remove its own has
them removed by the next one (``tbcourse.runner.leftovers``)."""
import os
import signal
import subprocess
import sys
from pathlib import Path

from tbcourse.runner.leftovers import temporary_folder
from tbcourse.settings import ROOT


def test_the_folders_of_a_killed_checker_are_removed_by_the_next_one():
    code = ("from tbcourse.runner.leftovers import temporary_folder as t; import time; "
            "a, b = t('course-checks-'), t('course-held-'); print(a.name, b.name, flush=True); time.sleep(60)")
    checker = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        left = [Path(name) for name in checker.stdout.readline().split()]
    finally:
        checker.send_signal(signal.SIGKILL)
        checker.wait()
    assert len(left) == 2 and all(folder.is_dir() for folder in left), "the killed checker made no folders"
    mine = [temporary_folder("course-checks-"), temporary_folder("course-held-")]
    try:
        assert not any(folder.exists() for folder in left), "a killed checker's folders were left behind"
        assert all(Path(t.name).is_dir() for t in mine)
    finally:
        for t in mine:
            t.cleanup()
