"""Bounds over all of a call's processes inside bubblewrap (``tbcourse.runner.bounds``, ``hostuser``): never the
host's root, memory and scratch disk over all processes, processes at once. Each attack is bounded: a few hundred
MB, a capped fork storm, and a kernel setting written back with its own current value."""
import os
import shutil
import socket
import time

import pytest

from tbcourse.grading.student import _call
from tbcourse.runner import process
from tbcourse.runner.errors import MESSAGE_CHARS, StudentError
from tbcourse.runner import pool
from tbcourse.runner.methods import bwrap, hostuser, unprivileged
from tbcourse.settings import ENV, KEYS, ROOT, SOLUTIONS, Settings

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason=f"needs bubblewrap: {bwrap.INSTALL}")

LESSON = '''
import os, time

def writes_a_kernel_setting(path):
    """Opened for writing and written back with its own value: were it allowed, nothing would change."""
    try:
        value = open(path).read()
        with open(path, "w") as out:
            out.write(value)
        return "written"
    except OSError as err:
        return type(err).__name__

def children_hoard(children, mb):
    pids = []
    for _ in range(children):
        pid = os.fork()
        if pid == 0:
            hoard = bytearray(mb << 20)
            for i in range(0, len(hoard), 4096):
                hoard[i] = 1
            time.sleep(30)
            os._exit(0)
        pids.append(pid)
    time.sleep(30)

def fills_scratch(files, mb):
    for n in range(files):
        with open(f"fill{n}", "wb") as out:
            for _ in range(mb):
                out.write(bytes(1 << 20))
    time.sleep(30)

def forks(at_most):
    started = 0
    pids = []
    try:
        for _ in range(at_most):
            pid = os.fork()
            if pid == 0:
                time.sleep(5)
                os._exit(0)
            pids.append(pid)
            started += 1
    except OSError:
        pass
    for pid in pids:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    return started

def floods(mb):
    chunk = b"flood " * (1 << 17)
    for _ in range(mb * (1 << 20) // len(chunk)):
        os.write(2, chunk)
    os.write(2, b"and more")
    return 1

def raises_a_long_message(chars):
    raise ValueError("long " * (chars // 5))

def connects(port):
    import socket
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return "connected"
    except OSError as err:
        return type(err).__name__

def leaves_a_session():
    import subprocess, sys
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True).pid

def reads(path):
    try:
        return len(open(path).read()) > 0
    except OSError:
        return False

def file_limit():
    import resource
    return resource.getrlimit(resource.RLIMIT_FSIZE)

def scratch_size():
    return sum(os.path.getsize(name) for name in os.listdir("."))
'''


def started(method, tmp_path, monkeypatch):
    for key, value in {"start_method": method, "scratch": str(tmp_path / "scratch"), "checks_tmp": str(tmp_path),
                       "call_memory_mb": "256", "call_seconds": "20"}.items():
        monkeypatch.setenv(ENV[key], value)
    (tmp_path / "scratch").mkdir()
    path = tmp_path / "99_bounds.py"
    path.write_text(LESSON)
    return lambda function, *args: _call(path, function, *args)


@pytest.fixture
def lesson(tmp_path, monkeypatch):
    return started("bwrap", tmp_path, monkeypatch)


@pytest.fixture
def fallback(tmp_path, monkeypatch):
    """The unprivileged fallback, where the grader is root."""
    try:
        unprivileged.check()
    except bwrap.BoundaryMissing as err:
        pytest.skip(str(err))
    return started("unprivileged", tmp_path, monkeypatch)


@pytest.mark.parametrize("setting", ["/proc/sys/vm/overcommit_ratio", "/proc/sys/kernel/core_pattern"])
def test_a_kernel_setting_cannot_be_written_from_inside(lesson, setting):
    before = open(setting).read()
    assert lesson("writes_a_kernel_setting", setting) in ("OSError", "PermissionError")
    assert open(setting).read() == before


def test_children_over_the_calls_memory_together_end_the_call(lesson):
    with pytest.raises(StudentError, match="more memory than the grader allows"):
        lesson("children_hoard", 3, 150)  # each within its own limit, 450 MB together


def test_a_scratch_folder_filled_past_its_bound_ends_the_call_and_is_emptied(lesson):
    with pytest.raises(pytest.fail.Exception, match="more than 512 MB to its scratch folder"):
        lesson("fills_scratch", 3, 200)
    assert lesson("scratch_size") == 0


@pytest.mark.skipif(not hostuser.needed(), reason="the process limit is the claimed uid's, where the grader is root")
def test_a_fork_storm_stops_at_the_process_limit(lesson, monkeypatch):
    """With the grader's own memory limit: forked copies of a torch process split among themselves the pages they
    share with processes outside the sandbox (the checks map the same libraries), so their proportional set sizes
    grow by up to those pages' size, which a limit of 256 MB would take for a hoard."""
    monkeypatch.setenv(ENV["call_memory_mb"], str(Settings().call_memory_mb))
    assert 0 < lesson("forks", 200) < hostuser.PROCESSES


def test_a_flood_of_prints_reaches_the_checks_bounded_and_the_next_call_prints_again(lesson, capfd):
    assert lesson("floods", 64) == 1
    err = capfd.readouterr().err
    assert "flood" in err and len(err) <= process.OUTPUT_BYTES + len(process.DROPPED), len(err)
    assert err.count("dropped") == 1
    assert lesson("floods", 0) == 1
    time.sleep(0.5)  # the relay's thread
    assert "and more" in capfd.readouterr().err


def test_a_long_exception_message_is_cut(lesson):
    with pytest.raises(ValueError) as raised:
        lesson("raises_a_long_message", 10**7)
    assert len(str(raised.value)) < MESSAGE_CHARS + 200


def test_the_fallback_has_no_network_where_root_can_take_it_away(fallback):
    with socket.create_server(("127.0.0.1", 0)) as server:
        assert fallback("connects", server.getsockname()[1]) != "connected"


def test_the_fallback_has_a_file_size_cap_and_a_process_limit(fallback):
    assert fallback("file_limit") == (hostuser.FILE_BYTES, hostuser.FILE_BYTES)
    assert 0 < fallback("forks", 200) < hostuser.PROCESSES


def test_every_process_of_the_fallback_ends_with_the_grade(fallback):
    pid = fallback("leaves_a_session")
    assert os.path.exists(f"/proc/{pid}"), "the call's process should have outlived the call"
    pool.close_all()
    time.sleep(0.2)
    state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] if os.path.exists(f"/proc/{pid}") else "gone"
    assert state in ("gone", "Z"), f"process {pid}, left in a session of its own, outlived the grade"


def test_the_fallback_finds_no_answers_in_this_course_or_the_one_its_python_was_installed_from(fallback):
    for path in [SOLUTIONS / "01_add_image.py", KEYS / "faces_review.json"]:
        assert path.exists() and not fallback("reads", str(path)), f"the fallback read {path}"
    assert fallback("reads", str(ROOT / "tbcourse" / "settings.py")), "the fallback must read the course's code"


def test_a_lesson_file_the_grader_wrote_for_itself_alone_is_still_read(tmp_path, monkeypatch):
    """A grader whose umask is 077 copies a student's lessons readable by itself only: the uid of the grade
    (where the grader is root) must still read them."""
    call = started("bwrap", tmp_path, monkeypatch)
    (tmp_path / "99_bounds.py").chmod(0o600)
    assert call("file_limit")
