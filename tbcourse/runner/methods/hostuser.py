"""Never the host's root: where the grader runs as root, student code runs as a user of its own on the host.

Inside bubblewrap student code is root of its own user namespace, and that namespace's root is the host's
user who started bubblewrap: were that root, a file only root may write (``/proc/sys/...``, a root-owned file
bound into the sandbox) would be writable from inside. So a grader running as root claims a host uid of its
own for each grade (``claim``: one of ``SLOTS`` uids from ``UID_BASE``, none of them a user of the machine,
held by a lock for as long as the grade's worker lives) and starts the worker through ``launch`` (this
module's ``main``): it limits the processes of that uid (``PROCESSES``, over all of them together: the kernel
counts a uid's processes) and the size of a file, drops every group and capability, becomes that uid with
no way to gain privileges again (no_new_privs), and only then runs bubblewrap (or, in the unprivileged
fallback, the worker itself). The folders bubblewrap binds into the sandbox must be reachable by that uid;
those that are not (a Python under ``/root``) are first bound, in a mount namespace of the launcher's own,
into a staging folder it can reach (``stage``), and bound from there. When the worker ends, every process of
the uid is ended (``SandboxUser.close``) and the uid is free for the next grade.
"""
import ctypes
import fcntl
import json
import os
import resource
import signal
import stat
import sys
import tempfile
import time
from pathlib import Path

UID_BASE = 1_900_000_000  # far above the users of a machine and the ranges /etc/subuid hands out
SLOTS = 256  # grades at the same time on one machine
PROCESSES = 64  # a grade's processes and threads at once, the launcher's bubblewrap included
FILE_BYTES = 2**28  # the largest file a grade's code may write
CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_BIND, MS_REC, MS_PRIVATE = 4096, 1 << 14, 1 << 18
PR_SET_NO_NEW_PRIVS = 38


def needed() -> bool:
    """Whether the grader runs as root, and student code must therefore run as a claimed uid."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


class SandboxUser:
    """A claimed uid (also its gid), held by a lock file until ``close``, which ends every process of it."""

    def __init__(self, uid: int, lock):
        self.uid, self.lock = uid, lock

    def close(self) -> None:
        end_processes(self.uid)
        self.lock.close()


def claim() -> SandboxUser:
    """A uid no other grade on this machine holds, with none of its processes left running."""
    folder = Path(tempfile.gettempdir()) / "course-sandbox-uids"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o077:
        raise OSError(f"{folder} is not a folder of root's own: refusing to take sandbox uids from it")
    for uid in range(UID_BASE, UID_BASE + SLOTS):
        lock = open(folder / str(uid), "a")  # noqa: SIM115 - held until SandboxUser.close
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        end_processes(uid)  # a grader killed before it could end them
        return SandboxUser(uid, lock)
    raise OSError(f"all {SLOTS} sandbox uids are taken by grades running on this machine")


def processes_of(uid: int) -> list[int]:
    """The running processes of ``uid`` (not the zombies, which are over and wait to be reaped)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/status") as status:
                    fields = dict(line.split(":", 1) for line in status if ":" in line)
                if fields["State"].split()[0] != "Z" and uid in map(int, fields["Uid"].split()):
                    found.append(int(name))
            except (OSError, ValueError, KeyError, IndexError):
                pass
    return found


def end_processes(uid: int) -> None:
    """SIGKILL every process of ``uid`` until none is left (a fork racing the kill is caught by the next round;
    the uid's process limit bounds how many there can be)."""
    for _ in range(100):
        pids = processes_of(uid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)


def reachable(path: Path) -> bool:
    """Whether a user who is neither the owner nor in the group can read and search ``path``, and reach it."""
    path = path.resolve()
    if os.stat(path).st_mode & 0o005 != 0o005:
        return False
    return all(os.stat(above).st_mode & 0o001 for above in path.parents)


def stage(sources: list[Path], folder: Path) -> dict[Path, Path]:
    """For each source the claimed uid cannot reach, the empty folder (in ``folder``, made here) that the
    launcher binds it to: {source: staging folder}."""
    staged = {}
    for source in sources:
        if source.is_dir() and not reachable(source):
            staged[source] = folder / str(len(staged))
            staged[source].mkdir(parents=True, exist_ok=True)
    if staged:
        os.chmod(folder, 0o755)
    return staged


def covers(sources: list[Path]) -> dict[str, list[str]]:
    """For the sources the claimed uid cannot reach, the folder above each that it cannot pass through (``/root``,
    say), with the sources below it: {folder: [sources]}. The launcher hides each such folder under an empty
    one of its own and binds back only those sources, at the same paths (the unprivileged fallback, which has
    no bubblewrap to bind them elsewhere)."""
    found = {}
    for source in sorted({s.resolve() for s in sources if s.is_dir() and not reachable(s)}):
        closed = next((above for above in reversed(source.parents) if not os.stat(above).st_mode & 0o001), None)
        if closed is not None and closed != Path("/"):
            found.setdefault(str(closed), []).append(str(source))
    return found


def launch(user: SandboxUser, command: list[str], staged: dict[Path, Path] | None = None,
           no_network: bool = False, cover: dict[str, list[str]] | None = None,
           hide: list[str] | None = None) -> list[str]:
    """``command`` run as the claimed uid, through this module's ``main`` (a Python without site packages);
    ``hide``: folders shown to it empty, where root may make a mount namespace."""
    plan = {"uid": user.uid, "staged": {str(k): str(v) for k, v in (staged or {}).items()}, "net": no_network,
            "cover": cover or {}, "hide": hide or []}
    return [sys.executable, "-I", "-S", __file__, json.dumps(plan), "--", *command]


def main(argv: list[str]) -> None:
    plan, command = json.loads(argv[0]), argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)

    def check(result, what):
        if result != 0:
            sys.exit(f"launcher: {what}: {os.strerror(ctypes.get_errno())}")

    needed = plan["staged"] or plan["cover"]  # without them, the worker cannot run: hiding is as far as root may
    if needed or plan["hide"]:
        private = libc.unshare(CLONE_NEWNS) == 0
        if needed:
            check(0 if private else -1, "a mount namespace of its own")
        if private:
            check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "its mounts made private")
            for folder in plan["hide"]:
                check(libc.mount(b"tmpfs", folder.encode(), b"tmpfs", 0, b"mode=000,size=4k"), f"hiding {folder}")
            for source, target in plan["staged"].items():
                check(libc.mount(source.encode(), target.encode(), None, MS_BIND | MS_REC, None),
                      f"binding {source}")
            for folder, sources in plan["cover"].items():
                held = {source: os.open(source, os.O_PATH | os.O_DIRECTORY) for source in sources}
                check(libc.mount(b"tmpfs", folder.encode(), b"tmpfs", 0, b"mode=755,size=1m"), f"covering {folder}")
                for source, fd in held.items():
                    os.makedirs(source, exist_ok=True)
                    check(libc.mount(f"/proc/self/fd/{fd}".encode(), source.encode(), None, MS_BIND | MS_REC, None),
                          f"binding {source} back")
                    os.close(fd)
    if plan["net"]:  # the fallback: no network where the machine lets root take it away (no loopback either)
        libc.unshare(CLONE_NEWNET)
    resource.setrlimit(resource.RLIMIT_NPROC, (PROCESSES, PROCESSES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.setgroups([])
    os.setresgid(plan["uid"], plan["uid"], plan["uid"])
    os.setresuid(plan["uid"], plan["uid"], plan["uid"])  # all of root's capabilities go with it
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
