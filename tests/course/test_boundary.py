"""`make grade`'s boundary: a class of attackers, each the honest lesson 01 plus one attack, graded in one run.

Each attack really tries what the boundary (``tbcourse.runner.methods.bwrap``) promises it cannot do: write
outside its scratch folder, read the solutions, the answer keys or a classmate's work, forge the record of
verdicts, reach the network, outlive its call, signal or trace the checks, raise its own limits, make the
checks unpickle something, or be graded on a file reached through a symbolic link; read the checks' own files
or an earlier call's inputs; write a kernel setting as the host's root, make the checks decode a PNG bomb or
build a tensor its reply does not hold, flood the checks' log with prints, start a fork storm, hold more than
the call's memory in children, or fill the disk from its scratch folder. Every attacker notes that its attack
ran (``ATTACKED``) and each step that worked (``BREACH``) in the sandbox's own /tmp, and its as_displayable
(01.3) is a reporter that fails with those notes as its message, which the student's grade record keeps.
(Its stderr is no channel: the grader's log keeps a student's prints only for failing tests.)
The test then checks, from outside, that nothing got through: each attacker gets exactly what its honest
part earns, the honest students get exactly 9 and 0, the course, the venv, the reports and the other
submissions are unchanged (also a while after grading, when any daemon would strike), no process of the
attackers survives, nothing reached the test's sockets, and nothing was unpickled.

Without the boundary (``--trusted``) the record forger gets 100 points, the reader of the solutions 7, the
daemon survives and rewrites its gradebook row, the network attacker is heard, the writer plants files in
the course and the venv and changes other submissions: each of these tests then fails.

Every attack is bounded: at most 30 s, 200 processes (a fork storm, killed by itself), 1.8 GB of memory, 750 MB
of disk, and about a gigabyte sent down a pipe (refused after its first bytes); a kernel setting is written
back with its own value. Processes are found again by a marker unique to this run, and killed if any remain.
"""
import csv
import hashlib
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import jupytext
import pytest

from tbcourse.grading.notebooks import to_notebook
from tbcourse.runner.methods import hostuser
from tbcourse.settings import ENV, ROOT, Settings

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None,
                                reason="needs bubblewrap: sudo apt-get install bubblewrap")

SOLUTION = (ROOT / "solutions" / "01_add_image.py").read_text()
STUB = (ROOT / "lessons" / "01_add_image.py").read_text()
FULL = {"01.1": 2, "01.2": 5, "01.3": 2}
MARKER = f"tbattack{uuid.uuid4().hex[:12]}"  # in every attacker's processes, files and messages
SETTLE = 8  # seconds to wait after grading: the daemon strikes 1 s after its call, then every second
MEMORY_MESSAGE = "more memory than the grader allows"
KERNEL_SETTINGS = ("/proc/sys/vm/overcommit_ratio", "/proc/sys/kernel/core_pattern")
LOG_BYTES = 2**21  # a student's log of the grade: a flood of prints must not reach it
SITE = Path(next(p for p in sys.path if p.endswith("site-packages")
                 and Path(p).resolve().is_relative_to((ROOT / ".venv").resolve())))  # the venv may be a link
COURSE_FILES = [ROOT / "tests" / "keys" / "faces_review.json", ROOT / "tests" / "graded" / "conftest.py"]
MARKED_DIRS = [ROOT, ROOT / "solutions", ROOT / "tbcourse", ROOT / "tests" / "graded", SITE]  # where files are planted

# What every attacker starts with: its constants (written in by `attacker`), a way to say what it did, and
# the processes it would hit if it could see them.
SAY = '''
import glob, json, os, signal, socket, struct, subprocess, sys
from pathlib import Path

_REPORT = f"/tmp/{MARKER}-{NAME}-report"  # the sandbox's own /tmp lives as long as the worker: the whole grade


def _say(kind, detail=""):
    """ATTACKED: the attack ran; BREACH: a step of it worked. Kept for the reporter, and on stderr."""
    line = f"{kind}-{MARKER} {NAME} {detail}\\n"
    os.write(2, line.encode())
    with open(_REPORT, "a") as out:
        out.write(line)


def _once(what):
    """True the first time in this worker (a flag file in /tmp: the sandbox's own /tmp, or the machine's)."""
    try:
        open(f"/tmp/{MARKER}-{NAME}-{what}", "x").close()
        return True
    except OSError:
        return False


def _graders():
    """Its parent, and each ancestor above it whose command line names the grader: the worker, the checks,
    the gradebook, whichever it can see (never anyone else's processes, were the boundary gone)."""
    found, pid = [], os.getppid()
    while pid > 0:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            parent = int(Path(f"/proc/{pid}/status").read_text().split("PPid:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            break
        if found and b"tbcourse.grading" not in cmdline:
            break
        found.append(pid)
        pid = parent
    return found


def _pipes(pid="self", access=os.O_WRONLY):
    """The pipe descriptors of a process, opened for ``access``: its channels."""
    found = []
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return found
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            flags = int(Path(f"/proc/{pid}/fdinfo/{fd}").read_text().split("flags:")[1].split()[0], 8)
            if link.startswith("pipe:") and flags & os.O_ACCMODE == access:
                found.append(int(fd))
        except (OSError, IndexError, ValueError):
            pass
    return found


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
'''

# name -> (the honest part, the attack). Attacks at the top level run at every import (each call imports);
# an attack inside a function runs when the graded tests call it.
ATTACKS = {
    # cannot write outside its scratch folder
    "writes_everywhere": (SOLUTION, '''
_say("ATTACKED")
_sites = [p for p in sys.path if p.endswith("site-packages")]
for path in [Path(ROOT, "solutions", MARKER + ".py"), Path(ROOT, "tbcourse", MARKER + ".py"),
             Path(ROOT, "tests", "graded", MARKER + ".py"), Path(REPORTS, MARKER), Path(SUBMISSIONS, MARKER),
             Path(SUBMISSIONS, "honest_full", MARKER), *[Path(site, MARKER + ".pth") for site in _sites],
             Path(os.path.dirname(os.getcwd()), "checks", MARKER)]:  # the checks' folder, beside the scratch
    try:  # a new file, a comment named by the marker: the test looks for it outside
        with open(path, "x") as out:
            out.write(f"# {MARKER}\\n")
    except OSError:
        pass
for path in [Path(ROOT, "tbcourse", "settings.py"), Path(ROOT, "solutions", "01_add_image.py"),
             Path(ROOT, "tests", "keys", "faces_review.json"), Path(ROOT, "tests", "graded", "conftest.py"),
             Path(ROOT, ".git", "HEAD"), Path(REPORTS, "gradebook.csv"), Path(__file__),
             *[Path(p) for site in _sites for p in glob.glob(os.path.join(site, "__editable__*"))]]:
    try:  # opened for writing and closed unchanged: being able to is the breach
        with open(path, "r+b"):
            pass
        _say("BREACH", f"could write {path}")
    except OSError:
        pass
for folder, _, names in os.walk(SUBMISSIONS):  # the class's own files (no link followed: never the course's)
    for path in [os.path.join(folder, name) for name in names]:
        if os.path.isfile(path) and not os.path.islink(path) and os.path.realpath(path).startswith(SUBMISSIONS + "/"):
            try:  # really changed: a comment at the end
                with open(path, "a") as out:
                    out.write(f"\\n# {MARKER}\\n")
                _say("BREACH", f"appended to {path}")
            except OSError:
                pass
'''),
    # cannot read the solutions, the answer keys, a classmate's work or the temporary copies of it
    "reads_the_answers": (STUB, '''
_say("ATTACKED")
_stolen = None
for path in [Path(ROOT, "solutions", "01_add_image.py"), Path(SUBMISSIONS, "honest_full", "01_add_image.py"),
             *map(Path, glob.glob("/tmp/*/01_add_image.py") + glob.glob("/tmp/*/*/01_add_image.py")),
             Path(ROOT, "tests", "keys", "faces_review.json"),
             *map(Path, glob.glob("/tmp/course-grade-*/record.jsonl"))]:
    if os.path.realpath(path) == os.path.realpath(__file__):
        continue
    try:
        text = path.read_text()
    except OSError:
        continue
    _say("BREACH", f"read {path}")
    if "### BEGIN SOLUTION" in text and _stolen is None:
        _stolen = text
if _stolen:  # would earn the full 9
    exec(compile(_stolen, "stolen", "exec"), globals())
'''),
    # cannot reach the channel of verdicts: the record file named by an environment variable
    "forges_the_verdicts": (STUB, '''
_say("ATTACKED")
_records = {os.environ[RECORD_VAR]} if os.environ.get(RECORD_VAR) else set()
for pid in ["self", *_graders()]:  # the environment the checks were started with
    try:
        for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\\0"):
            if item.startswith(RECORD_VAR.encode() + b"="):
                _records.add(item.split(b"=", 1)[1].decode())
    except OSError:
        pass
_records.add(os.path.join(os.path.dirname(os.getcwd()), "record.jsonl"))  # beside the scratch folder, by layout
for path in filter(os.path.isfile, _records):
    try:  # a test of 100 points, passed: pays whenever the grade driver reads it
        with open(path, "a") as out:
            out.write(json.dumps({"event": "collected", "test": f"forged-{MARKER}", "exercise": "01.1",
                                  "points": 100}) + "\\n")
            out.write(json.dumps({"event": "result", "test": f"forged-{MARKER}", "passed": True,
                                  "message": ""}) + "\\n")
        _say("BREACH", f"forged {path}")
    except OSError:
        pass
'''),
    # cannot reach any network, loopback included
    "phones_home": (SOLUTION, '''
_say("ATTACKED")
for family, kind, address in [(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", PORT)),
                              (socket.AF_INET, socket.SOCK_STREAM, ("localhost", PORT)),
                              (socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", UDP_PORT)),
                              (socket.AF_UNIX, socket.SOCK_STREAM, "\\0" + UNIX_NAME)]:
    try:
        with socket.socket(family, kind) as sock:
            sock.settimeout(2)
            sock.connect(address)
            sock.sendall(f"{MARKER} phoned home".encode())
            if kind == socket.SOCK_DGRAM:  # a datagram is sent whoever listens: only an answer says it arrived
                sock.recv(64)
        _say("BREACH", f"reached {address}")
    except OSError:
        pass
'''),
    # cannot signal or trace the checks, nor the worker that carries their calls
    "signals_the_checks": (SOLUTION, '''
_honest_log_note_images = log_note_images


def log_note_images(writer, size=512):
    _say("ATTACKED", f"targets {_graders()}")
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    for pid in _graders():
        try:  # its memory, opened for writing (nothing written: reading a page proves it)
            start = int(Path(f"/proc/{pid}/maps").read_text().split("-")[0], 16)
            with open(f"/proc/{pid}/mem", "r+b", buffering=0) as mem:
                mem.seek(start)
                mem.read(16)
            _say("BREACH", f"opened the memory of {pid}")
        except (OSError, ValueError, OverflowError):
            pass
        if libc.ptrace(16, pid, None, None) == 0:  # PTRACE_ATTACH
            _say("BREACH", f"traced {pid}")
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass
            libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
    for pid in _graders():
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGSEGV, signal.SIGSTOP,
                    signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
    return _honest_log_note_images(writer, size)
'''),
    # cannot raise its own limits
    "raises_its_limits": (SOLUTION, '''
import resource
_honest_log_note_images = log_note_images


def log_note_images(writer, size=512):
    _say("ATTACKED", f"limit {resource.getrlimit(resource.RLIMIT_AS)}")
    for lift in (lambda: resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)),
                 lambda: resource.prlimit(0, resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))):
        try:
            lift()
            _say("BREACH", f"lifted its memory limit to {resource.getrlimit(resource.RLIMIT_AS)}")
        except (ValueError, OSError):
            pass
    hoard = bytes((LIMIT_MB + 512) << 20)  # calloc: address space, never touched
    _say("BREACH", f"allocated {len(hoard) >> 20} MB")
    return _honest_log_note_images(writer, size)
'''),
    # cannot use more memory than its limit through its reply: the worker would have to hold it
    "floods_the_worker": (SOLUTION, '''
def log_note_images(writer, size=512):
    _say("ATTACKED")
    head, big = struct.Struct("<Q"), (LIMIT_MB + 64) << 20
    inner = json.dumps({"value": {"bytes": 0}, "sizes": [big]}).encode()
    empty = json.dumps({"value": {"dict": []}, "sizes": []}).encode()
    empty = head.pack(len(empty)) + empty
    outer = json.dumps({"value": {"tuple": ["returned", {"bytes": 0}, {"bytes": 1}]},
                        "sizes": [head.size + len(inner) + big, len(empty)]}).encode()
    total = head.size + len(outer) + head.size + len(inner) + big + len(empty)
    chunk = bytes(1 << 20)
    for fd in _pipes():  # a well-formed reply of one bytes value bigger than the call's memory, never held
        try:
            _write_all(fd, head.pack(total) + head.pack(len(outer)) + outer + head.pack(len(inner)) + inner)
            for _ in range(big >> 20):
                _write_all(fd, chunk)
            _write_all(fd, empty)
        except OSError:
            pass
    os._exit(0)
'''),
    # the checks never unpickle a reply: returned, written to its own pipes, or pushed into the worker's
    "smuggles_pickles": (SOLUTION, '''
import pickle


class _Payload:
    def __reduce__(self):  # unpickled anywhere, it says so; unpickled outside the sandbox, it leaves a file
        return os.system, (f"echo BREACH-{MARKER} {NAME} unpickled in $$ >&2; touch {CANARY}",)


def _framed():
    data = pickle.dumps(_Payload())
    return struct.pack("<Q", len(data)) + data


def displayed_pixels(img, dataformats="CHW"):
    _say("ATTACKED")
    os.write(1, pickle.dumps(_Payload()))
    for pid in _graders():  # the worker's channels, and (without the boundary) the checks'
        for access in (os.O_RDONLY, os.O_WRONLY):
            for fd in _pipes(pid, access):
                try:
                    with open(f"/proc/{pid}/fd/{fd}", "wb") as pipe:
                        pipe.write(_framed())
                    _say("BREACH", f"wrote a pickle into {pid}'s pipe {fd}")
                except OSError:
                    pass
    try:
        count = int(Path(f"/tmp/{MARKER}-{NAME}-count").read_text())
    except (OSError, ValueError):
        count = 0
    Path(f"/tmp/{MARKER}-{NAME}-count").write_text(str(count + 1))
    if count % 3 == 0:
        return _Payload()
    if count % 3 == 1:
        return pickle.dumps(_Payload())
    for fd in _pipes():  # its own reply pipe: a pickle where the reply belongs, then nothing else
        _write_all(fd, _framed())
    os._exit(0)
'''),
    # cannot outlive its call: 46 sleepers, one in a namespace of its own, and a daemon nobody waits for
    "zombie_daemons": (SOLUTION, '''
_honest_log_note_images = log_note_images
_SLEEPER = "import time; time.sleep(30)"
_DAEMON = """
import json, os, sys, time
marker, name, cache, book, canary = sys.argv[1:6]
if os.fork():
    os._exit(0)  # the daemon's parent is gone at once: nobody waits for it
os.setsid()
time.sleep(1)
for _ in range(25):
    line = f"BREACH-{marker} {name} the daemon outlived its call\\\\n"
    os.write(2, line.encode())
    for path, rewrite in ((f"/tmp/{marker}-{name}-report", lambda t: t + line),
                          (cache, lambda t: json.dumps({**json.loads(t), "total": 999})),
                          (book, lambda t: t.replace(name + ",", name + ",999,")), (canary, lambda t: marker)):
        try:
            text = rewrite(open(path).read() if os.path.exists(path) else "")
            with open(path, "w") as out:
                out.write(text)
        except (OSError, ValueError):
            pass
    time.sleep(1)
"""


def log_note_images(writer, size=512):
    if _once("spawn"):
        _say("ATTACKED")
        quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(46):
            subprocess.Popen([sys.executable, "-c", _SLEEPER, MARKER], start_new_session=True, **quiet)
        if os.path.exists("/usr/bin/unshare"):  # a user and PID namespace of its own, if it may make one
            subprocess.Popen(["/usr/bin/unshare", "--user", "--pid", "--fork", sys.executable, "-c", _SLEEPER,
                              MARKER], start_new_session=True, **quiet)
        subprocess.Popen([sys.executable, "-c", _DAEMON, MARKER, NAME, os.path.join(REPORTS, "grades", NAME + ".json"),
                          os.path.join(REPORTS, "gradebook.csv"), DAEMON_CANARY], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return _honest_log_note_images(writer, size)
'''),
    # the checks never read a file outside the scratch folder through a link planted in it
    "links_the_scratch": (SOLUTION, '''
_say("ATTACKED")
if os.path.basename(os.getcwd()) == "scratch" and _once("plant"):  # the sandbox's scratch folder
    for n in range(1, 40):  # each later call's writer folder: a link to a classmate's runs
        try:
            os.makedirs(f"call{n}", exist_ok=True)
            os.symlink(os.path.join(SUBMISSIONS, "honest_full", "runs"), f"call{n}/writer0")
        except OSError:
            pass
for path in glob.glob("/tmp/course-grade-*/checks/**/events.out.tfevents.*", recursive=True):
    try:  # the checks' folder, which student code may read: what did they copy into it?
        if SECRET.encode() in Path(path).read_bytes():
            _say("BREACH", f"read a classmate's event file at {path}")
    except OSError:
        pass
'''),
    # reads, of the checks' folder, only what the call is handed: never a test's own files (01.2's test logs
    # images itself before the call, beside what it hands over) nor an earlier call's inputs
    "peeks_at_the_checks": (SOLUTION, '''
_honest_log_note_images = log_note_images


def log_note_images(writer, size=512):
    _say("ATTACKED")
    checks = os.path.join(os.path.dirname(os.getcwd()), "checks")  # beside the scratch folder
    own = os.path.join(checks, "pytest", "test_log_note_images_five_step0", "size_4")  # this test's, by its name
    for folder, _, names in [*os.walk(checks), *os.walk(own)]:
        for name in names:
            if not os.path.relpath(folder, checks).startswith("shown"):
                _say("BREACH", f"saw {os.path.join(folder, name)}")
    return _honest_log_note_images(writer, size)
'''),
    # is never the host's root: a kernel setting opened for writing, and written back with its own value
    "writes_a_kernel_setting": (SOLUTION, '''
_say("ATTACKED", f"uid {os.getuid()}")
for _setting in ("/proc/sys/vm/overcommit_ratio", "/proc/sys/kernel/core_pattern"):
    try:
        _value = open(_setting).read()
        with open(_setting, "w") as out:
            out.write(_value)
        _say("BREACH", f"wrote {_setting}")
    except OSError:
        pass
'''),
    # cannot make the checks decode a huge image: a 12000 x 12000 PNG of about 420 KB in its event file
    "png_bomb": (SOLUTION, '''
import struct as _struct, zlib as _zlib
_honest_log_note_images = log_note_images


def _png(side):
    def chunk(kind, data):
        return _struct.pack(">I", len(data)) + kind + data + _struct.pack(">I", _zlib.crc32(kind + data))
    pack, row = _zlib.compressobj(9), bytes(1 + 3 * side)
    data = b"".join(pack.compress(row) for _ in range(side)) + pack.flush()
    return (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", _struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def log_note_images(writer, size=512):
    from tensorboard.compat.proto.summary_pb2 import Summary
    _say("ATTACKED")
    _honest_log_note_images(writer, size)
    image = Summary.Image(height=12000, width=12000, colorspace=3, encoded_image_string=_png(12000))
    writer._get_file_writer().add_summary(Summary(value=[Summary.Value(tag="fake_img", image=image)]), 6)
'''),
    # cannot make the checks build a tensor its reply does not hold: a 784 MB shape with no data
    "empty_tensor_reply": (SOLUTION, '''
def displayed_pixels(img, dataformats="CHW"):
    _say("ATTACKED")
    head = struct.Struct("<Q")
    def framed(value, sizes):
        header = json.dumps({"value": value, "sizes": sizes}).encode()
        return head.pack(len(header)) + header
    inner = framed({"tensor": 0, "dtype": "float32", "shape": [14000, 14000], "stride": [14000, 1], "grad": False},
                   [0])
    empty = framed({"dict": []}, [])
    outer = framed({"tuple": ["returned", {"bytes": 0}, {"bytes": 1}]}, [len(inner), len(empty)])
    payload = outer + inner + empty
    for fd in _pipes():
        try:
            _write_all(fd, head.pack(len(payload)) + payload)
        except OSError:
            pass
    os._exit(0)
'''),
    # cannot fill the checks' log: 32 MB of prints at every import
    "floods_stderr": (SOLUTION, '''
_say("ATTACKED")
_chunk = f"{MARKER} flood ".encode() * (1 << 16)
for _ in range((32 << 20) // len(_chunk)):
    os.write(2, _chunk)
'''),
    # cannot start more than 64 processes at once (where the grader is root; capped at 200 all the same)
    "fork_storm": (SOLUTION, '''
import time as _time
_honest_log_note_images = log_note_images


def log_note_images(writer, size=512):
    _say("ATTACKED")
    children = []
    for _ in range(200):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            _time.sleep(5)
            os._exit(0)
        children.append(pid)
    if PROCESS_LIMIT and len(children) >= PROCESS_LIMIT:
        _say("BREACH", f"started {len(children)} processes")
    for pid in children:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return _honest_log_note_images(writer, size)
'''),
    # cannot hold more than the call's memory in children, each within its own limit: 3 x 600 MB
    "children_hoard": (SOLUTION, '''
import time as _time


def log_note_images(writer, size=512):
    _say("ATTACKED")
    for _ in range(3):
        if os.fork() == 0:
            hoard = bytearray(600 << 20)
            for i in range(0, len(hoard), 4096):
                hoard[i] = 1
            _time.sleep(20)
            os._exit(0)
    _time.sleep(10)  # the keeper adds them up long before
    _say("BREACH", "three children held 1800 MB for 10 s")
'''),
    # cannot fill the disk from its scratch folder: 3 files of 250 MB
    "fills_scratch": (SOLUTION, '''
import time as _time


def log_note_images(writer, size=512):
    _say("ATTACKED")
    block = bytes(1 << 20)
    for n in range(3):
        with open(f"{MARKER}-fill{n}", "wb") as out:
            for _ in range(250):
                out.write(block)
    _time.sleep(3)
    _say("BREACH", "wrote 750 MB to its scratch folder")
'''),
}

# Submissions that are nothing but symbolic links (no code of their own), and a name a spreadsheet would run.
LINKS = {
    "links_to_the_solution": {"lessons/01_add_image.py": ROOT / "solutions" / "01_add_image.py"},
    "links_the_lessons_folder": {"lessons": ROOT / "solutions"},
    "links_a_notebook": {"lessons/01_add_image.ipynb": "SOLUTION_NOTEBOOK"},
}
FORMULA = "=1+2"

# student -> (points per exercise, status): what the honest part of each earns. Every attacker's 01.3 is
# its reporter; an attack inside log_note_images or displayed_pixels costs that exercise where it fails it.
WITHOUT_01_3 = {"01.1": 2, "01.2": 5}
EXPECTED = {
    "honest_full": (FULL, "graded"),
    "honest_stub": ({}, "graded"),
    FORMULA: ({}, "no lesson files found"),
    "writes_everywhere": (WITHOUT_01_3, "graded"),
    "reads_the_answers": ({}, "graded"),
    "forges_the_verdicts": ({}, "graded"),
    "phones_home": (WITHOUT_01_3, "graded"),
    "signals_the_checks": (WITHOUT_01_3, "graded"),
    "raises_its_limits": ({"01.2": 5}, "graded"),  # its log_note_images runs out of memory
    "floods_the_worker": ({"01.2": 5}, "graded"),  # its log_note_images sends a reply too big to take
    "smuggles_pickles": ({"01.1": 2}, "graded"),  # its displayed_pixels returns pickles
    "zombie_daemons": (WITHOUT_01_3, "graded"),
    "links_the_scratch": ({"01.2": 5}, "graded"),  # its writer's folder is a dangling link
    "peeks_at_the_checks": (WITHOUT_01_3, "graded"),
    "writes_a_kernel_setting": (WITHOUT_01_3, "graded"),
    "png_bomb": ({"01.2": 5}, "graded"),  # its log_note_images logs an image the checks refuse
    "empty_tensor_reply": ({"01.1": 2}, "graded"),  # its displayed_pixels replies with a forged tensor
    "floods_stderr": (WITHOUT_01_3, "graded"),
    "fork_storm": (WITHOUT_01_3, "graded"),
    "children_hoard": ({"01.2": 5}, "graded"),  # its log_note_images is ended for its children's memory
    "fills_scratch": ({"01.2": 5}, "graded"),  # its log_note_images is ended for its scratch folder
    "links_to_the_solution": ({}, "no lesson files found"),
    "links_a_notebook": ({}, "no lesson files found"),
    "links_the_lessons_folder": ({}, "no lesson files found"),
}


# The last call of student code reaches no attack: as_displayable (01.3, 2 points) gives its points to report,
# in its failure message, what the attacks did in this grade.
REPORTER = '''

def as_displayable(img):
    """The reporter."""
    try:
        lines = Path(_REPORT).read_text().splitlines()
    except OSError:
        lines = []
    ran = sum(line.startswith("ATTACKED") for line in lines)
    breaches = sorted({line.split(" ", 2)[2] for line in lines if line.startswith("BREACH")})
    raise RuntimeError(f"REPORT-{MARKER} ran {ran} breaches {len(breaches)}: {'; '.join(breaches)}")
'''


def attacker(name: str, base: str, attack: str, constants: dict) -> str:
    lines = "".join(f"{key} = {value!r}\n" for key, value in {**constants, "NAME": name}.items())
    return f"{base}\n\n# ---- {name}: the attack ----\n{lines}{SAY}{attack}{REPORTER}"


def build_class(folder: Path, constants: dict) -> Path:
    """The class in ``folder``/class: the attackers, the two honest students, the links and the formula."""
    submissions = folder / "class"
    honest = submissions / "honest_full"
    (honest / "runs").mkdir(parents=True)
    (honest / "01_add_image.py").write_text(SOLUTION)
    (honest / "notes.txt").write_text("my notes\n")
    (honest / "runs" / "events.out.tfevents.1700000000.laptop").write_bytes(constants["SECRET"].encode())
    (submissions / "honest_stub").mkdir()
    (submissions / "honest_stub" / "01_add_image.py").write_text(STUB)
    (submissions / FORMULA).mkdir()
    (submissions / FORMULA / "notes.txt").write_text("formula\n")
    for name, (base, attack) in ATTACKS.items():
        (submissions / name).mkdir()
        (submissions / name / "01_add_image.py").write_text(attacker(name, base, attack, constants))
    notebook = folder / "elsewhere" / "01_add_image.ipynb"
    notebook.parent.mkdir()
    jupytext.write(to_notebook(SOLUTION), notebook, fmt="ipynb")
    for name, links in LINKS.items():
        for rel, target in links.items():
            (submissions / name / rel).parent.mkdir(parents=True, exist_ok=True)
            (submissions / name / rel).symlink_to(notebook if target == "SOLUTION_NOTEBOOK" else target)
    return submissions


class Listener:
    """Loopback sockets of the test's own process: TCP and UDP on 127.0.0.1, and an abstract unix socket.
    Whatever reaches them is kept in ``received``; a datagram is answered."""

    def __init__(self):
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind("\0" + MARKER)
        self.unix.listen()
        self.received, self.done = [], threading.Event()
        self.selector = selectors.DefaultSelector()
        for sock in (self.tcp, self.udp, self.unix):
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.done.is_set():
            for key, _ in self.selector.select(timeout=0.2):
                sock = key.fileobj
                try:
                    if sock is self.udp:
                        data, sender = sock.recvfrom(4096)
                        self.received.append(data)
                        sock.sendto(b"heard", sender)
                    elif sock in (self.tcp, self.unix):
                        conn, _ = sock.accept()
                        conn.setblocking(False)
                        self.received.append(b"<connection>")
                        self.selector.register(conn, selectors.EVENT_READ)
                    else:
                        data = sock.recv(4096)
                        self.received.append(data)
                        if not data:
                            self.selector.unregister(sock)
                            sock.close()
                except OSError:
                    pass

    def close(self):
        self.done.set()
        self.thread.join(5)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()


def marked_processes() -> list[int]:
    """The processes whose command line or environment holds this run's marker."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if MARKER.encode() in (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def kill_marked():
    for pid in marked_processes():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for planted in [*Path("/tmp").glob(f"{MARKER}*"), *planted_files()]:
        planted.unlink(missing_ok=True)


def planted_files() -> list[Path]:
    """Files named by the marker where the attackers try to plant them in the course and the venv."""
    return [path for folder in MARKED_DIRS for path in folder.glob(f"{MARKER}*")]


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry under ``folder``: a file's SHA-256, a link's target (never followed), a folder's name."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            key = str(path.relative_to(folder))
            if path.is_symlink():
                found[key] = f"-> {os.readlink(path)}"
            elif path.is_file():
                found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                found[key] = "folder"
    return found


def git_status() -> set[str]:
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return set(out.splitlines())


def ours(line: str) -> bool:
    """Whether a `git status` line is a change the attackers could have made: a path or a file holding the
    marker. (Another engineer's edits in the same tree may come and go while the class is graded.)"""
    path = ROOT / line[3:].strip().strip('"')
    try:
        return MARKER in line or (path.is_file() and MARKER.encode() in path.read_bytes())
    except OSError:
        return False


def course_state() -> dict:
    """A few files of the course, and the venv's files that run at every start of Python: its .pth files
    and the finder of the editable install. (Not the whole venv: someone may install a package meanwhile.)"""
    files = [*COURSE_FILES, *sorted(SITE.glob("*.pth")), *sorted(SITE.glob("__editable__*"))]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("boundary")
    reports = folder / "reports"
    listener = Listener()
    constants = dict(MARKER=MARKER, ROOT=str(ROOT), SUBMISSIONS=str(folder / "class"), REPORTS=str(reports),
                     PORT=listener.tcp.getsockname()[1], UDP_PORT=listener.udp.getsockname()[1], UNIX_NAME=MARKER,
                     RECORD_VAR=ENV["record"], LIMIT_MB=Settings().call_memory_mb, SECRET=f"secret-of-{MARKER}",
                     CANARY=str(folder / "unpickled"), DAEMON_CANARY=str(folder / "daemon-was-here"),
                     PROCESS_LIMIT=hostuser.PROCESSES if hostuser.needed() else 0)
    try:
        submissions = build_class(folder, constants)
        before = {"course": course_state(), "git": git_status(), "class": snapshot(submissions),
                  "kernel": kernel_settings()}
        command = [sys.executable, "-m", "tbcourse.grading.gradebook", str(submissions), "--reports", str(reports),
                   "--lesson", "01", "--timeout", "20"]
        run = subprocess.run(command, capture_output=True, text=True, timeout=1200, cwd=ROOT)
        at_end = snapshot(reports)
        time.sleep(SETTLE)
        yield dict(folder=folder, reports=reports, submissions=submissions, run=run, before=before,
                   at_end=at_end, survivors=marked_processes(), listener=listener, constants=constants)
    finally:
        listener.close()
        kill_marked()


def kernel_settings() -> dict[str, str]:
    return {path: Path(path).read_text() for path in KERNEL_SETTINGS}


def rows(path: Path) -> dict[str, dict]:
    """The gradebook's student rows (not the maxima), exercise columns by id (``01.2 displayed_pixels()`` -> ``01.2``)."""
    table = csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines())
    return {row["student"]: {key.split(" ")[0]: value for key, value in row.items()} for row in table
            if row["student"] != "(maximum)"}


def message(graded, student, exercise) -> str:
    """Why the student's exercise failed, as its record keeps it ("" when it passed)."""
    record = json.loads((graded["reports"] / "grades" / f"{student}.json").read_text())
    return record["exercises"][exercise]["message"]


def test_every_student_gets_exactly_what_its_honest_part_earns(graded):
    run = graded["run"]
    assert run.returncode == 0, run.stderr[-3000:]
    book = rows(graded["reports"] / "gradebook.csv")
    assert set(book) == {f"'{FORMULA}", *EXPECTED} - {FORMULA}
    for student, (points, status) in EXPECTED.items():
        row = book[f"'{student}" if student == FORMULA else student]
        got = {ex: int(row[ex]) for ex in FULL}
        assert got == {ex: points.get(ex, 0) for ex in FULL}, f"{student}: {got} ({row['status']})"
        assert row["total"] == str(sum(got.values())), f"{student}: {row}"
        assert row["status"] == status, f"{student}: {row['status']}"
        if status == "graded":
            assert row["max"] == "9", f"{student}: a forged test changed the maximum: {row}"


def test_every_attack_ran_and_none_got_through(graded):
    for student in ATTACKS:
        report = message(graded, student, "01.3")
        found = re.search(rf"REPORT-{MARKER} ran (\d+) breaches (\d+)", report)
        assert found, f"{student} did not report: {report}"
        assert int(found[1]) > 0, f"{student}'s attack never ran"
        assert found[2] == "0", f"{student}: {report}"


def test_nothing_outside_the_scratch_folder_changed(graded):
    before = graded["before"]
    assert course_state() == before["course"], "the course's files or the venv's start-up files changed"
    assert not [line for line in git_status() - before["git"] if ours(line)], "the course tree changed"
    assert snapshot(graded["submissions"]) == before["class"], "a submission changed"
    assert not [p for p in graded["reports"].rglob("*") if MARKER in p.name]
    assert planted_files() == []


def test_nothing_changes_after_grading_ends_and_no_process_survives(graded):
    assert snapshot(graded["reports"]) == graded["at_end"], "the reports changed after grading ended"
    assert graded["survivors"] == [], f"processes of the attackers outlived the grading: {graded['survivors']}"
    assert not Path(graded["constants"]["DAEMON_CANARY"]).exists()
    cache = json.loads((graded["reports"] / "grades" / "zombie_daemons.json").read_text())
    assert cache["total"] == sum(EXPECTED["zombie_daemons"][0].values())


def test_nothing_reached_the_network(graded):
    time.sleep(0.5)  # the listener's last select
    assert graded["listener"].received == []


def test_nothing_was_unpickled_by_the_checks(graded):
    assert not Path(graded["constants"]["CANARY"]).exists()
    assert "returned something that cannot be checked" in message(graded, "smuggles_pickles", "01.2")


def test_memory_beyond_the_limit_fails_with_the_memory_message(graded):
    for student in ("raises_its_limits", "floods_the_worker"):
        assert MEMORY_MESSAGE in message(graded, student, "01.1"), message(graded, student, "01.1")


def test_the_gradebook_quotes_a_name_a_spreadsheet_would_run(graded):
    text = (graded["reports"] / "gradebook.csv").read_text()
    assert f"\n'{FORMULA}," in text and f"\n{FORMULA}," not in text


def test_a_grade_whose_grading_process_died_is_not_kept(tmp_path):
    """The checks' process killed in the middle of a grade: the record says so, and nothing is cached."""
    from tbcourse.grading.gradebook import grade_student

    student = tmp_path / "class" / "slow"
    student.mkdir(parents=True)
    (student / "01_add_image.py").write_text("import time\ntime.sleep(1)\n" + SOLUTION)  # each call takes 1 s
    reports, result = tmp_path / "reports", {}
    thread = threading.Thread(target=lambda: result.update(record=grade_student(student, reports, "01", 20)))
    thread.start()
    checks = record = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and thread.is_alive():
        checks = checks or next(iter(_children_running("tbcourse.grading.plugin")), None)
        if checks and record is None:
            record = _environ(checks).get(ENV["record"])
        if record and '"event": "result"' in _read(record):
            os.kill(checks, signal.SIGKILL)  # a test has ended, the others have not
            break
        time.sleep(0.05)
    thread.join(300)
    assert record, "never saw the grading process start"
    rec = result["record"]
    assert rec["status"] == "not graded: the grading process died; run make grade again", rec["status"]
    assert not (reports / "grades" / "slow.json").exists(), "a grade whose process died was cached"


def _children_running(needle: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == os.getpid() \
                    and needle.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            pass
    return found


def _environ(pid: int) -> dict[str, str]:
    try:
        items = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return {}
    return dict(item.decode(errors="replace").split("=", 1) for item in items if b"=" in item)


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def test_the_hosts_kernel_settings_are_unchanged(graded):
    assert kernel_settings() == graded["before"]["kernel"]


def test_the_checks_refuse_a_huge_image_and_a_tensor_without_data(graded):
    assert "far larger than any this course logs" in message(graded, "png_bomb", "01.1")
    assert "data of 0 bytes" in message(graded, "empty_tensor_reply", "01.2")


def test_processes_together_are_bounded_in_memory_and_scratch_disk(graded):
    assert MEMORY_MESSAGE in message(graded, "children_hoard", "01.1")
    assert "scratch folder" in message(graded, "fills_scratch", "01.1")


def test_a_flood_of_prints_leaves_the_report_folder_small(graded):
    logs = {path.name: path.stat().st_size for path in (graded["reports"] / "grades").glob("*.log")}
    assert logs and max(logs.values()) <= LOG_BYTES, logs
