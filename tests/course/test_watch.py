"""`make watch`: a warm process regrades a lesson on each save, prints its scorecard and the next exercise,
keeps progress, and stops on Ctrl-C leaving no process behind."""
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from tbcourse.settings import LESSONS, REPORTS_ENV, ROOT, SOLUTIONS

LESSON = "01_add_image"


class Watcher:
    """``python -m tbcourse watch`` in the background, its output read line by line."""

    def __init__(self, work, reports, *options):
        env = {**os.environ, "PYTHONUNBUFFERED": "1", REPORTS_ENV: str(reports)}
        self.process = subprocess.Popen([sys.executable, "-m", "tbcourse", "watch", "--work", str(work), *options],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                                        env=env, start_new_session=True)
        self.lines, self.seen = queue.Queue(), []
        threading.Thread(target=lambda: [self.lines.put(line) for line in self.process.stdout], daemon=True).start()

    def wait_for(self, text, seconds=120) -> list[str]:
        """The lines printed until one containing ``text``."""
        got, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            got.append(line)
            if text in line:
                return got
        pytest.fail(f"no line with {text!r} within {seconds} s; printed:\n{''.join(got)[-3000:]}")

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)


def descendants(pid) -> list[int]:
    """Processes whose parent chain leads to ``pid`` (from /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def test_regrades_on_save_and_stops_cleanly(tmp_path):
    work, reports = tmp_path / "work", tmp_path / "reports"
    work.mkdir()
    shutil.copy2(LESSONS / f"{LESSON}.py", work)
    watcher = Watcher(work, reports, "--lesson", "01")
    try:
        first = "".join(watcher.wait_for("watching"))
        assert "total: 0/9 points" in first and "next: 01.1 log_note_images()" in first, first
        shutil.copy2(SOLUTIONS / f"{LESSON}.py", work / f"{LESSON}.py")  # the student saves a finished lesson
        graded = "".join(watcher.wait_for("total:"))
        assert "total: 9/9 points" in graded, graded
        assert "every exercise passes" in "".join(watcher.wait_for("next")), "no next step was printed"
        pid = watcher.process.pid
        assert watcher.stop() == 0, "Ctrl-C did not end watch cleanly"
        assert not descendants(pid), f"processes left behind: {descendants(pid)}"
    finally:
        if watcher.process.poll() is None:
            os.killpg(watcher.process.pid, signal.SIGKILL)
    assert '"passed": true' in (reports / "progress.json").read_text(), "progress was not kept"
