"""tbcourse.runner: student code runs apart, started each way the worker can be started (forked per
call, a warm spawned worker, inside bubblewrap, as an unprivileged user); only plain data and honest failures
come back, the same each way."""
import os
import shutil
import time
from pathlib import Path

import pytest
import torch
from torch.utils.hooks import RemovableHandle
from torch.utils.tensorboard import SummaryWriter

from tbcourse.grading.student import _call, hold
from tbcourse.runner import pool, process, proxy
from tbcourse.runner.errors import StudentError
from tbcourse.runner.methods import bwrap, hostuser, unprivileged
from tbcourse.kit.events import scalars
from tbcourse.settings import BOUNDARIES, ENV, START_METHODS, Settings

LESSON = '''
import os
import numpy as np
import torch

torch.equal = lambda *a, **k: True  # a patch that must not reach the checks

def log(writer, value):
    writer.add_scalar("x", value, 0)

def equal_patched():
    return torch.equal(torch.zeros(1), torch.ones(1))

def closes(writer):
    writer.close()

def hooks(model):
    model.register_forward_hook(lambda *a: None)

def own_hook(model):
    model.register_forward_hook(print).remove()
    return len(model._forward_hooks)

def doubled_sum(model):
    with torch.no_grad():
        model.weight.mul_(2)
    return float(model.weight.sum())

def transpose_in_place(t):
    t.transpose_(0, 1)
    return t.sum()

def first_child(model):
    return next(model.children())

class Anything:
    def __eq__(self, other):
        return True

def peeks(handed=None, big=None):
    checks = os.path.join(os.path.dirname(os.getcwd()), "checks")  # beside the scratch folder, as in a grade
    seen = sorted(os.path.relpath(os.path.join(d, f), checks) for d, _, files in os.walk(checks) for f in files)
    text = open(handed).read() if handed else None
    try:
        secret = open(os.path.join(checks, "pytest", "test_earlier0", "expected.txt")).read()
    except OSError:
        secret = None
    return seen, text, secret

def anything():
    return Anything()

def bad_value(x):
    raise ValueError(f"no {x}")

def leaves():
    os._exit(0)

def replies_then_leaves():  # a reply of its own where the worker's belongs, then gone before it can be stopped
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                os.write(fd, (5).to_bytes(8, "little") + b"hello")
        except OSError:
            pass
    os._exit(0)

def marks():
    open("/tmp/mark", "w").close()

def marked():
    return os.path.exists("/tmp/mark")

def creates(path):
    open(path, "x").close()

def lingers():
    pid = os.fork()
    if pid == 0:
        while True:
            pass
    return pid

def loops():
    while True:
        pass

def pid():
    return os.getpid()

def search_path():
    import sys
    return [os.path.abspath(entry or ".") for entry in sys.path]

def plants(path):
    try:
        with open(path, "x") as out:
            out.write("print('planted')")
        return True
    except OSError:
        return False

def spawns_after_its_reply(name):
    """From the next time the worker waits for a call: 50 ms later, a process that adds a byte to a file in
    the working folder every 10 ms, forever."""
    import subprocess, sys, time
    from tbcourse.runner import call as worker  # its serving loop
    waiting = worker.receive_request

    def later(*args):
        worker.receive_request = waiting
        time.sleep(0.05)
        subprocess.Popen([sys.executable, "-c", f"for _ in iter(int, 1): open('{name}', 'a').write('.'); "
                          "__import__('time').sleep(0.01)"], start_new_session=True)
        return waiting(*args)

    worker.receive_request = later

def ticks(name):
    """A thread and a process that each add a byte to a file in the working folder every 10 ms, forever."""
    import subprocess, sys, threading, time

    def tick(path):
        while True:
            with open(path, "a") as out:
                out.write(".")
            time.sleep(0.01)

    threading.Thread(target=tick, args=(f"{name}-thread",), daemon=True).start()
    subprocess.Popen([sys.executable, "-c", f"for _ in iter(int, 1): open('{name}-process', 'a').write('.'); "
                      "__import__('time').sleep(0.01)"], start_new_session=True)
    while not all(os.path.exists(f"{name}-{kind}") for kind in ("thread", "process")):
        time.sleep(0.01)

def hoards():
    hoard = []
    while True:
        hoard.append(bytearray(10**8))
'''


@pytest.fixture(params=START_METHODS)
def lesson(request, tmp_path, monkeypatch):
    """The lesson's functions, called the way the start method says; inside a boundary the test's folder
    is the checks' temporary folder, readable by student code, and a scratch folder is its only writable one."""
    if request.param == "bwrap" and shutil.which("bwrap") is None:
        pytest.skip(f"bubblewrap is not installed: {bwrap.INSTALL}")
    monkeypatch.setenv(ENV["start_method"], request.param)
    if request.param in BOUNDARIES:
        (tmp_path / "scratch").mkdir()
        monkeypatch.setenv(ENV["scratch"], str(tmp_path / "scratch"))
        monkeypatch.setenv(ENV["checks_tmp"], str(tmp_path))
    if request.param == "unprivileged":
        try:
            unprivileged.check()
        except bwrap.BoundaryMissing as err:
            pytest.skip(str(err))
    path = tmp_path / "99_sandbox.py"
    path.write_text(LESSON)
    return lambda function, *args: _call(path, function, *args)


def test_logs_through_a_writer_of_its_own_and_patches_stay_in_the_child(lesson, tmp_path):
    with SummaryWriter(log_dir=str(tmp_path / "run")) as writer:
        lesson("log", writer, 3.5)
    assert scalars(tmp_path / "run", "x") == {0: 3.5}
    assert not torch.equal(torch.zeros(1), torch.ones(1))


def test_a_hook_of_the_checks_outlives_one_the_call_registers_and_removes(lesson, monkeypatch):
    monkeypatch.setattr(RemovableHandle, "next_id", 0)  # the id that a freshly started worker gives its first hook
    model = torch.nn.Linear(2, 2)
    model.register_forward_hook(print)  # a spy of the checks, say
    assert lesson("own_hook", model) == 1, "the call's own hook replaced the checks' one"


def test_a_large_model_is_handed_over_once_and_its_changes_are_seen(lesson, monkeypatch):
    sent, send, written = [], process.send_request, set()

    def counting(fd, head, data, buffers):  # the request's buffers, and the files of large storages written for it
        folder = proxy._holding(Settings.from_env()).folder
        new = set(folder.glob("storage*")) - written
        written.update(new)
        sent.append(sum(b.raw().nbytes for b in buffers) + sum(path.stat().st_size for path in new))
        return send(fd, head, data, buffers)

    monkeypatch.setattr(process, "send_request", counting)
    model = torch.nn.Linear(1024, 1024)  # 4 MiB of weight
    for _ in range(2):  # the call doubles its own copy (copy on write); the file stays as written
        assert lesson("doubled_sum", model) == pytest.approx(2 * float(model.weight.detach().sum()), rel=1e-4)
    assert sent[0] >= 4 * 2**20 > 2**20 > sent[1], f"bytes handed over per call: {sent}"
    with torch.no_grad():
        model.weight.add_(1)  # in place: torch counts it, so the model is handed over again
    assert lesson("doubled_sum", model) == pytest.approx(2 * float(model.weight.detach().sum()), rel=1e-4)
    assert sent[2] >= 4 * 2**20, f"bytes handed over per call: {sent}"


@pytest.mark.skipif(os.name == "nt", reason="Windows cannot delete a file while it is mapped: nothing is adopted")
def test_a_held_model_is_in_memory_once_and_changes_the_checks_make_stay_theirs(lesson, monkeypatch):
    """``hold``: the model's large storage becomes a copy-on-write mapping of the file each call maps (the checks
    and the workers read the same pages), is not written again for a call, and an in-place change of the checks
    is theirs alone until the next call is handed the changed model."""
    model = torch.nn.Linear(1024, 1024)  # 4 MiB of weight
    weight = model.weight.detach().clone()
    held = proxy._holding(Settings.from_env())
    earlier = set(held.folder.glob("storage*"))  # an earlier test's, where the folder is the process's own
    hold(model)
    assert torch.equal(model.weight.detach(), weight)
    files = set(held.folder.glob("storage*")) - earlier
    assert len(files) == 1, files
    maps = Path("/proc/self/maps").read_text() if Path("/proc/self/maps").exists() else str(files)
    assert str(next(iter(files))) in maps, "the checks' weight is not the held file, mapped"
    assert lesson("doubled_sum", model) == pytest.approx(2 * float(weight.sum()), rel=1e-4)
    assert set(held.folder.glob("storage*")) - earlier == files, "the held model was written again for the call"
    with torch.no_grad():
        model.weight.add_(1)  # in place: the checks' own pages; the file stays as it was
    assert lesson("doubled_sum", model) == pytest.approx(2 * float((weight + 1).sum()), rel=1e-4)


@pytest.mark.parametrize("lesson", ["fork", "spawn"], indirect=True)
def test_a_new_grade_starts_with_workers_free_of_what_an_earlier_version_patched(lesson, tmp_path):
    assert lesson("equal_patched") is True  # this version of the lesson patches torch.equal as it is imported
    (tmp_path / "99_sandbox.py").write_text(LESSON.replace("torch.equal = lambda *a, **k: True", ""))
    assert lesson("equal_patched") is True, "within a grade, a lesson's calls share its worker"
    pool.warm_up(Settings.from_env())  # what a warm process (make watch) does as it grades again
    assert lesson("equal_patched") is False, "a worker of the earlier grade lived on into the next"


def test_in_place_changes_reach_the_caller_and_own_modules_come_back_as_themselves(lesson):
    t = torch.arange(6.0).reshape(2, 3)
    assert lesson("transpose_in_place", t) == 15 and t.shape == (3, 2)
    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    assert lesson("first_child", model) is model[0]


@pytest.mark.parametrize("function, complaint", [("closes", "closed the SummaryWriter"), ("hooks", "left hooks")])
def test_the_contract_is_enforced(lesson, tmp_path, function, complaint):
    arg = SummaryWriter(log_dir=str(tmp_path)) if function == "closes" else torch.nn.Linear(1, 1)
    with pytest.raises(pytest.fail.Exception, match=complaint):
        lesson(function, arg)


def test_objects_of_the_students_own_class_do_not_come_back(lesson):
    with pytest.raises(pytest.fail.Exception, match="99_sandbox.Anything|Anything"):
        lesson("anything")


def test_python_exceptions_keep_their_type_and_say_where(lesson):
    with pytest.raises(ValueError, match=r"no 7 \(raised at 99_sandbox.py:\d+\)"):
        lesson("bad_value", 7)


def test_exit_loop_and_memory_bomb_cost_the_call_only(lesson, monkeypatch):
    monkeypatch.setenv(ENV["call_seconds"], "3")
    with pytest.raises(pytest.fail.Exception, match="ended the process"):
        lesson("leaves")
    with pytest.raises(pytest.fail.Exception, match="ran past the time limit"):
        lesson("loops")
    with pytest.raises(StudentError, match="MemoryError"):
        monkeypatch.setenv(ENV["call_seconds"], "60")
        lesson("hoards")


def test_a_boundary_run_by_root_runs_student_code_as_a_uid_of_its_own(lesson, request, tmp_path):
    """Never the host's root: a boundary's student code runs as a claimed uid where the grader is root, as
    seen from outside (the owner of a file it makes); elsewhere as the grader."""
    method = request.node.callspec.params["lesson"]
    path = (tmp_path / "scratch" if method in BOUNDARIES else tmp_path) / "mine"
    lesson("creates", str(path))
    uid = path.stat().st_uid
    if method in BOUNDARIES and os.getuid() == 0:
        assert hostuser.UID_BASE <= uid < hostuser.UID_BASE + hostuser.SLOTS
    else:
        assert uid == os.getuid()


def running(pid: int) -> bool:
    """Whether the process is there and not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("lesson", ["bwrap"], indirect=True)
def test_inside_bubblewrap_calls_share_a_lesson_worker_until_one_leaves_a_thread_or_process(lesson, tmp_path):
    first = lesson("pid")
    assert lesson("pid") == first, "each call should not need a process of its own"
    lesson("ticks", "left")
    sizes = [(tmp_path / "scratch" / f"left-{kind}").stat().st_size for kind in ("thread", "process")]
    time.sleep(0.3)
    assert [(tmp_path / "scratch" / f"left-{kind}").stat().st_size for kind in ("thread", "process")] == sizes, \
        "a thread or process of the call outlived it"
    assert lesson("pid") != first, "the lesson worker that a call left a thread in should have been replaced"


@pytest.mark.parametrize("lesson", ["bwrap"], indirect=True)
def test_inside_bubblewrap_a_call_that_ends_its_process_costs_that_call_only(lesson):
    """The keeper replaces the lesson worker and goes on: the sandbox, and what is in its /tmp, stay for the grade's
    next calls (a keeper that died with the call would cost a fresh sandbox and a fresh import of torch)."""
    lesson("marks")
    workers = dict(pool._workers)
    with pytest.raises(pytest.fail.Exception, match="ended the process"):
        lesson("leaves")
    for _ in range(3):  # whether it is gone before the keeper stops it is a race: the keeper must survive both ways
        with pytest.raises(pytest.fail.Exception):
            lesson("replies_then_leaves")
        assert lesson("marked"), "the sandbox's /tmp was lost: its keeper died with the call"
    assert pool._workers == workers, "the boundary's worker was started again"


@pytest.mark.parametrize("lesson", ["bwrap"], indirect=True)
def test_inside_bubblewrap_no_code_of_a_call_runs_between_calls(lesson, tmp_path):
    ticks = tmp_path / "scratch" / "late"
    lesson("spawns_after_its_reply", "late")
    time.sleep(0.5)
    assert not ticks.exists(), "code of the call ran on after its reply and started a process"
    lesson("pid")  # the process starts as this call begins, and is gone when it ends
    size = ticks.stat().st_size if ticks.exists() else 0
    time.sleep(0.3)
    assert (ticks.stat().st_size if ticks.exists() else 0) == size, "a process of the call outlived it"


@pytest.mark.parametrize("lesson", BOUNDARIES, indirect=True)
def test_inside_a_boundary_no_module_is_found_in_a_folder_student_code_can_write(lesson, tmp_path):
    """Workers that unpickle requests (a boundary's lesson workers, the forking worker) import modules as they go:
    none may come from the scratch folder, where student code could plant one."""
    writable = {str(tmp_path / "scratch"), "/tmp"}
    assert not writable & set(lesson("search_path")), lesson("search_path")
    for folder in {*lesson("search_path"), "/"} - writable:  # the folder it started in (Python 3.10: on its path)
        assert not lesson("plants", os.path.join(folder, "planted.py")), f"student code could write to {folder}"


@pytest.mark.parametrize("lesson", ["unprivileged"], indirect=True)
def test_what_a_call_leaves_running_dies_with_the_unprivileged_worker(lesson):
    pid = lesson("lingers")
    assert running(pid), "the call's child should have outlived the call"
    for worker in pool._workers.values():
        worker.close()
    time.sleep(0.5)
    assert not running(pid), f"process {pid}, left by a call, outlived the worker"


@pytest.mark.parametrize("method", BOUNDARIES)
def test_inside_a_boundary_a_call_reads_only_what_it_is_handed_of_the_checks_folder(method, tmp_path, monkeypatch):
    """An earlier test's own file, the file of an earlier call's large tensor and the checks' folder around them
    stay out of sight; what a call is handed by path, and its large tensors' files, it reads, that call only."""
    if method == "bwrap" and shutil.which("bwrap") is None:
        pytest.skip(f"bubblewrap is not installed: {bwrap.INSTALL}")
    if method == "unprivileged":
        try:
            unprivileged.check()
        except bwrap.BoundaryMissing as err:
            pytest.skip(str(err))
    checks, scratch, work = tmp_path / "checks", tmp_path / "scratch", tmp_path / "work"
    for folder in (checks, scratch, work):
        folder.mkdir()
    for key, value in {"start_method": method, "scratch": scratch, "checks_tmp": checks}.items():
        monkeypatch.setenv(ENV[key], str(value))
    (work / "99_sandbox.py").write_text(LESSON)
    for test in ("test_earlier0", "test_now0"):
        (checks / "pytest" / test).mkdir(parents=True, mode=0o700)  # as pytest makes a test's tmp_path
    (checks / "pytest" / "test_earlier0" / "expected.txt").write_text("the answer")
    handed = checks / "pytest" / "test_now0" / "picture.txt"
    handed.write_text("an input")

    def peeks(*args):
        return _call(work / "99_sandbox.py", "peeks", *args)

    seen, text, secret = peeks(handed, torch.zeros(2**19))  # 2 MiB: held as a file
    assert text == "an input" and secret is None
    assert seen and all(name.startswith("shown" + os.sep) for name in seen), seen
    assert os.path.join("shown", "pytest", "test_now0", "picture.txt") in seen
    assert any(name.startswith(os.path.join("shown", "held")) for name in seen), "the large tensor was not shown"
    assert peeks() == ([], None, None), "a later call saw an earlier call's inputs"
    assert not list((checks / "shown").iterdir()), "the inputs stayed shown after the call"
