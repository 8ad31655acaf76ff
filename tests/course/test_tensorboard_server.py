"""tbcourse.authoring.tensorboard_server: clear errors before anything starts, the stderr tail when TensorBoard fails,
and a server that is stopped however the block ends."""
import json
import socket
import subprocess
import urllib.error

import pytest
from torch.utils.tensorboard import SummaryWriter

from tbcourse.authoring import tensorboard_server
from tbcourse.authoring.tensorboard_server import HOST, TensorBoardError, fetch, free_port, serve


@pytest.fixture
def logs(tmp_path):
    """A log folder with one run, ``tiny``, holding one scalar."""
    with SummaryWriter(str(tmp_path / "logs" / "tiny")) as writer:
        writer.add_scalar("x", 1.0, 0)
    return tmp_path / "logs"


@pytest.fixture
def started(monkeypatch):
    """The processes serve() starts, recorded as they start."""
    processes, real_popen = [], subprocess.Popen

    def popen(*args, **kwargs):
        processes.append(real_popen(*args, **kwargs))
        return processes[-1]
    monkeypatch.setattr(tensorboard_server.subprocess, "Popen", popen)
    return processes


def test_missing_log_directory(tmp_path):
    with pytest.raises(TensorBoardError, match="no log directory .*run the lessons first"):
        with serve(tmp_path / "nowhere"):
            pass


def test_log_directory_without_event_files(tmp_path):
    (tmp_path / "empty_run").mkdir()
    with pytest.raises(TensorBoardError, match="holds no event file"):
        with serve(tmp_path):
            pass


def test_port_already_in_use(logs):
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(TensorBoardError, match=f"port {port} .* already in use"):
            with serve(logs, port=port):
                pass


def test_server_that_exits_shows_its_stderr(logs):
    with pytest.raises(TensorBoardError, match=r"(?s)exited with code 2.*unrecognized arguments: --no_such_flag"):
        with serve(logs, extra_args=["--no_such_flag"]):
            pass


def test_server_that_never_comes_up_in_time(logs, started):
    port = free_port()
    with pytest.raises(TensorBoardError, match=rf"did not serve all runs at http://{HOST}:{port} within 0.2 s"):
        with serve(logs, port=port, timeout=0.2):  # importing tensorboard alone takes longer
            pass
    assert [p.poll() is not None for p in started] == [True], "the TensorBoard that was started has been stopped"


def test_serves_the_runs_and_stops_when_the_block_fails(logs, started):
    with pytest.raises(ZeroDivisionError):
        with serve(logs) as url:
            assert json.loads(fetch(url, "/data/runs")) == ["tiny"], "TensorBoard lists the one run"
            1 / 0
    assert [p.poll() is not None for p in started] == [True], "the TensorBoard that was started has been stopped"
    with pytest.raises(urllib.error.URLError):
        fetch(url, "/data/runs", timeout=2)
