"""Run every reference lesson as a script, as `make check` and `make figures` both do."""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tbcourse.settings import OFFLINE_ENV, SOLUTIONS, Settings, lesson_names

# Offline, and one thread each since two lessons run at once on two cores. The thread count also
# changes lesson 00's training in the last bits, so every caller must use this same environment.
ENV = {OFFLINE_ENV: "1", "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1"}


def run_all(runs: Path, cwd: Path, work: Path = SOLUTIONS) -> dict[str, subprocess.CompletedProcess]:
    """lesson -> its finished process, each ``NN_topic.py`` of ``work`` (the reference lessons unless told)
    logging under ``runs``."""
    env = {**os.environ, **ENV, **Settings(runs=runs).env()}

    def run(lesson):
        return subprocess.run([sys.executable, str(work / f"{lesson}.py")], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)

    lessons = lesson_names()
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(lessons, pool.map(run, lessons)))
