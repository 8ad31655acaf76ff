"""The boundary where bubblewrap cannot make its namespaces: the student-code worker as the user ``nobody``.

A grader that runs as root in a container that forbids user namespaces (Gradescope's Docker containers)
cannot use bubblewrap (``tbcourse.runner.methods.bwrap``), but it can still keep student code out of its
files. The worker then runs as ``nobody`` (``UNPRIVILEGED_USER``), started by setpriv with no
supplementary groups, no capabilities and no way to gain any (no_new_privs, so no setuid program helps),
in an environment of its own. It reads only what any user may read and the folders handed to it
(``let_read``), and writes only its scratch folder (``hand_over``) and the world-writable /tmp.
Everything the grader writes (the record of verdicts, the grade, Gradescope's results.json) belongs to
root, in folders ``nobody`` cannot write to.

Weaker than bubblewrap: student code keeps the network and sees the machine's other processes, and what a
call leaves running lives on until the worker is killed with its process group (after a call that ran past
its time limit, and when the grade ends) — or, if it left that group, until the container ends.
"""
import os
import pwd
import shutil
import sys
import tempfile
from pathlib import Path

from tbcourse.runner.methods.bwrap import BoundaryMissing
from tbcourse.settings import ENV, ROOT, SAFE_PATH, UNPRIVILEGED_USER


def _user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise BoundaryMissing(f"there is no user {UNPRIVILEGED_USER!r} to run student code as") from None


def check() -> None:
    """Raise BoundaryMissing, saying why, unless student code can be run as the unprivileged user here."""
    if os.geteuid() != 0:
        raise BoundaryMissing(f"running student code as {UNPRIVILEGED_USER!r} needs a grader running as root")
    if shutil.which("setpriv") is None:
        raise BoundaryMissing("setpriv is not installed: apt-get install util-linux")
    _user()


def command(scratch: Path, worker_args: list[str], env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """``setpriv ... python -m tbcourse.runner.worker ...`` as the unprivileged user, and its whole
    environment (``PYTHONPATH``: the checks' own copy of the course)."""
    user = _user()
    args = [shutil.which("setpriv"), f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
            "--no-new-privs", "--inh-caps=-all", "--",
            sys.executable, *SAFE_PATH, "-m", "tbcourse.runner.worker", *worker_args]
    return args, {"PATH": "/usr/bin:/bin", "HOME": str(scratch), "TMPDIR": str(scratch), "LANG": "C.UTF-8",
                  "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(ROOT), ENV["start_method"]: "unprivileged",
                  ENV["scratch"]: str(scratch), **env}


def hand_over(scratch: Path) -> None:
    """Give the scratch folder to the unprivileged user."""
    user = _user()
    os.chown(scratch, user.pw_uid, user.pw_gid)
    let_read(scratch)


def let_read(*folders: Path) -> None:
    """Let the unprivileged user read each folder (o+rx) and pass through the folders above it (o+x, not
    list them), up to the system's temporary folder, under which the grader makes its own."""
    top = Path(tempfile.gettempdir()).resolve()
    for folder in folders:
        folder.chmod(folder.stat().st_mode | 0o005)
        for above in folder.resolve().parents:
            if above == top or not above.is_relative_to(top):
                break
            above.chmod(above.stat().st_mode | 0o001)
