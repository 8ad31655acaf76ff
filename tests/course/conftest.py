"""Fixtures of the course's own checks (`make check`)."""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tbcourse.build import lesson_names
from tbcourse.paths import ROOT


def run_script(script: Path, runs: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COURSE_RUNS": str(runs), "COURSE_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, str(script)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def demo_results(tmp_path_factory):
    """Every reference lesson run once as a script, two at a time: (runs folder, {lesson: process})."""
    runs, cwd, lessons = tmp_path_factory.mktemp("runs"), tmp_path_factory.mktemp("cwd"), lesson_names()
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = dict(zip(lessons, pool.map(lambda name: run_script(ROOT / "solutions" / f"{name}.py", runs, cwd), lessons)))
    return runs, done, cwd


@pytest.fixture(scope="session")
def demo_runs(demo_results):
    """The runs folder in which every reference lesson has run as a script (fails if one did not)."""
    runs, done, _ = demo_results
    failed = {name: proc.stderr[-2000:] for name, proc in done.items() if proc.returncode}
    assert not failed, f"reference lessons failed as scripts: {failed}"
    return runs
