"""The boundary where bubblewrap cannot make its namespaces: the student-code worker as a uid of its own.

A grader that runs as root in a container that forbids user namespaces (Gradescope's Docker containers)
cannot use bubblewrap (``tbcourse.runner.methods.bwrap``), but it can still keep student code out of its
files. The worker then runs as a uid claimed for the grade (``tbcourse.runner.methods.hostuser``: no user of
the machine, no groups, no capabilities and no way to gain any, so no setuid program helps), with at most
``hostuser.PROCESSES`` processes and files of at most ``hostuser.FILE_BYTES``, in a network namespace of its
own where root may make one (no network, loopback included), in an environment of its own; a folder of
Python or the course that the uid cannot reach (under ``/root``) is hidden under an empty one with only
those folders bound back, in a mount namespace of its own (``hostuser.covers``), where the answers and
grades of the course, and of the course the environment was installed from, are shown empty. It reads only
what any user may read and the folders handed to it (``let_read``), and writes only its scratch folder
(``hand_over``) and the world-writable /tmp. Everything the grader writes (the record of verdicts, the
grade, Gradescope's results.json) belongs to root, in folders that uid cannot write to. When the worker is
closed, every process of the uid is ended, whatever session or process group it moved to.

Weaker than bubblewrap: student code sees the machine's other processes, keeps the network where the
container forbids network namespaces too, and what a call leaves running lives on until the worker is
closed (after a call that ran past its time limit, and when the grade ends).
"""
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tbcourse.runner.methods import hostuser
from tbcourse.runner.methods.bwrap import BoundaryMissing, python_dirs
from tbcourse.settings import DATA, ENV, GRADED_TESTS, ROOT, SAFE_PATH


def check() -> None:
    """Raise BoundaryMissing, saying why, unless student code can be run as a uid of its own here."""
    if not hostuser.needed():
        raise BoundaryMissing("running student code as a user of its own needs a grader running as root")
    user = hostuser.claim()
    try:
        probe = subprocess.run(hostuser.launch(user, [sys.executable, "-c", "import tbcourse"], cover=_cover()),
                               capture_output=True, text=True, timeout=60, env={"PYTHONPATH": str(ROOT)})
    finally:
        user.close()
    if probe.returncode:
        raise BoundaryMissing(f"a user of its own cannot run this Python and the course ({probe.stderr.strip()[-300:]}):"
                              " install them where any user may read them")


def _answers() -> list[str]:
    """The folders of answers and grades of this course, and of the course this Python environment was installed
    from, if another (an editable install names it: a local run of the autograder's bundle), which the
    launcher shows to student code empty."""
    roots = {ROOT}
    try:
        url = json.loads(importlib.metadata.distribution("tbcourse").read_text("direct_url.json") or "{}").get("url")
        if (url or "").startswith("file://"):
            roots.add(Path(url.removeprefix("file://")))
    except importlib.metadata.PackageNotFoundError:
        pass
    return [str(found) for root in roots for found in (root / "solutions", root / "tests" / "keys", root / "reports")
            if found.is_dir()]


def _cover() -> dict[str, list[str]]:
    """The folders of Python and the course that the claimed uid cannot reach on its own (``hostuser.covers``)."""
    return hostuser.covers([*python_dirs(), ROOT / "tbcourse", DATA, GRADED_TESTS])


def command(scratch: Path, worker_args: list[str], env: dict[str, str],
            user: hostuser.SandboxUser) -> tuple[list[str], dict[str, str]]:
    """``python -m tbcourse.runner.worker ...`` as ``user``, and its whole environment (``PYTHONPATH``: the
    checks' own copy of the course's code, which it reads as the graded tests' helpers)."""
    worker = [sys.executable, *SAFE_PATH, "-m", "tbcourse.runner.worker", *worker_args]
    return hostuser.launch(user, worker, no_network=True, cover=_cover(), hide=_answers()), {
        "PATH": "/usr/bin:/bin", "HOME": str(scratch), "TMPDIR": str(scratch), "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(ROOT), ENV["start_method"]: "unprivileged",
        ENV["scratch"]: str(scratch), **env}


def hand_over(scratch: Path, uid: int) -> None:
    """Give the scratch folder to the uid that runs student code."""
    os.chown(scratch, uid, uid)
    let_read(scratch)


def let_read(*folders: Path) -> None:
    """Let another user read each folder (o+rx) and pass through the folders above it (o+x, not list them),
    up to the system's temporary folder, under which the grader makes its own; in those, what is in the folder
    too (a grader whose umask is 077 wrote its copies of the lessons for itself alone)."""
    top = Path(tempfile.gettempdir()).resolve()
    for folder in folders:
        folder.chmod(folder.stat().st_mode | 0o005)
        if folder.resolve().is_relative_to(top):
            for below, dirs, files in os.walk(folder):
                for name in dirs + files:
                    path = Path(below, name)
                    if not path.is_symlink():
                        path.chmod(path.stat().st_mode | (0o005 if path.is_dir() else 0o004))
        for above in folder.resolve().parents:
            if above == top or not above.is_relative_to(top):
                break
            above.chmod(above.stat().st_mode | 0o001)
