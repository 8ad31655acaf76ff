"""The grading boundary: the command that starts the student-code worker inside bubblewrap.

What the worker sees is a list of read-only folders, not the machine: the Python it runs on, the course's
code (``tbcourse/``), its data, its graded-test helpers, the student's own lesson files and what the current
call is handed of the checks' temporary folder (``tbcourse.runner.showing``). It writes only to a scratch folder
of its own. It has no network, not even loopback; its own PID, IPC and UTS namespaces and a user
namespace with no capabilities (so it cannot raise the hard limits it is given); a new session (no
terminal to inject into); and it dies with the process that started it. The worker is the PID
namespace's first process (``--as-pid-1``): no bubblewrap process lives beside it holding the channel's
descriptors and the environment it was started with. Not visible: the answer keys, the solutions, the
reports and gradebook, the record of verdicts, other students' work, the checks' own files and earlier
calls' inputs, /proc of anything outside, the instructor's home.
"""
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from tbcourse.runner.methods import hostuser
from tbcourse.settings import DATA, ENV, GRADED_TESTS, ROOT, SAFE_PATH

INSTALL = "sudo apt-get install bubblewrap   # Debian/Ubuntu; Fedora: sudo dnf install bubblewrap"
SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin")
TMPFS_BYTES = 2**28  # the sandbox's /tmp and /dev/shm each: memory, which its limit on address space does not count
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
             "/etc/group", "/etc/nsswitch.conf", "/etc/alternatives")


class BoundaryMissing(RuntimeError):
    """bubblewrap is not installed, or cannot make namespaces here."""


def bwrap() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise BoundaryMissing(f"bubblewrap is not installed: {INSTALL}")
    return path


def check() -> None:
    """Raise BoundaryMissing, with what to do, unless bubblewrap is installed and can make its namespaces here."""
    probe = [bwrap(), "--unshare-all", "--unshare-user", "--die-with-parent", "--ro-bind", "/", "/", "true"]
    user = hostuser.claim() if hostuser.needed() else None  # as the uid the worker will run as
    try:
        probe = subprocess.run(hostuser.launch(user, probe) if user else probe, capture_output=True, text=True,
                               timeout=30)
    finally:
        if user:
            user.close()
    if probe.returncode:
        raise BoundaryMissing(f"bubblewrap cannot make its namespaces here ({probe.stderr.strip()[:200]}); "
                              "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) "
                              "or run the grading as root")


def python_dirs() -> list[Path]:
    """The interpreter, its standard library and the environment's packages (a venv and its base)."""
    found = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        found.add(Path(sysconfig.get_paths()[key]))
    for entry in sys.path:  # editable installs and .pth additions
        if entry and Path(entry).is_dir() and not Path(entry).resolve().is_relative_to(ROOT):
            found.add(Path(entry))
    return sorted(_outermost(found))


def _outermost(paths):
    paths = sorted({p.resolve() for p in paths})
    return [p for p in paths if not any(p != q and p.is_relative_to(q) for q in paths)]


def command(readable: list[Path], scratch: Path, worker_args: list[str], env: dict[str, str],
            user: hostuser.SandboxUser | None = None) -> list[str]:
    """``bwrap ... python -m tbcourse.runner.worker ...``: ``readable`` folders read-only, ``scratch``
    writable, the same paths inside as outside; started as ``user`` (``hostuser``) where the grader is root.
    /proc is read-only inside: what it exposes of the kernel (``/proc/sys``) cannot be written from there."""
    args = [bwrap(), "--unshare-all", "--unshare-user", "--as-pid-1", "--cap-drop", "ALL", "--die-with-parent",
            "--new-session", "--clearenv", "--proc", "/proc", "--remount-ro", "/proc", "--dev", "/dev",
            "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp", "--size", str(TMPFS_BYTES), "--tmpfs", "/dev/shm"]
    for folder in SYSTEM_DIRS:
        if os.path.exists(folder):
            args += ["--ro-bind" if not os.path.islink(folder) else "--symlink",
                     *((folder, folder) if not os.path.islink(folder) else (os.readlink(folder), folder))]
    for name in ETC_FILES:
        args += ["--ro-bind-try", name, name]
    course = [ROOT / "tbcourse", DATA, GRADED_TESTS]
    binds = _outermost([*python_dirs(), *course, *readable])
    # The course's root is on the worker's path (PYTHONPATH). Inside the sandbox it holds only the folders bound
    # into it, as a read-only skeleton: were it made as a mount point, in /tmp's tmpfs when the course lives
    # under /tmp, student code could plant a module there.
    skeleton = scratch.parent / "root-skeleton"
    for folder in binds:
        if folder.is_relative_to(ROOT):
            (skeleton / folder.relative_to(ROOT)).mkdir(parents=True, exist_ok=True)
    staged = hostuser.stage([skeleton, *binds], scratch.parent / "staged") if user else {}
    args += ["--ro-bind", str(staged.get(skeleton, skeleton)), str(ROOT)]
    for folder in binds:
        args += ["--ro-bind", str(staged.get(folder, folder)), str(folder)]
    args += ["--bind", str(scratch), str(scratch), "--remount-ro", "/", "--chdir", "/"]  # the worker moves to scratch
    for key, value in {"PATH": "/usr/bin:/bin", "HOME": str(scratch), "LANG": "C.UTF-8", "TMPDIR": "/tmp",
                       "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(ROOT),  # the checks' own copy of the course
                       ENV["start_method"]: "bwrap", ENV["scratch"]: str(scratch), **env}.items():
        args += ["--setenv", key, value]
    args += ["--", sys.executable, *SAFE_PATH, "-m", "tbcourse.runner.worker", "--pid-namespace", *worker_args]
    return hostuser.launch(user, args, staged) if user else args
