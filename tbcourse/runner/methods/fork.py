"""The fork start method (Linux, the default for checking one's own work): a worker per lesson, forked from
multiprocessing's forkserver, which imported the lessons' libraries once as the grade started; it runs the
lesson's calls itself, on a pair of pipes."""
import gc
import multiprocessing
import os
import sys

from tbcourse.runner.framing import READY, write_frame
from tbcourse.runner.preload import PRELOAD
from tbcourse.runner.process import Worker, WorkerError
from tbcourse.settings import ENV, GRADED_TESTS


def start() -> Worker:
    """A worker forked from the forkserver (``warm_up`` started it), its channel a pair of pipes."""
    context = _forkserver()
    requests, to_worker = context.Pipe(duplex=False)
    from_worker, replies = context.Pipe(duplex=False)
    process = context.Process(target=_serve_forked, args=(requests, replies), daemon=True)
    try:
        process.start()
    except (OSError, EOFError, RuntimeError) as err:  # the forkserver could not start, or died
        for end in (requests, to_worker, from_worker, replies):
            end.close()
        raise WorkerError(f"the forkserver could not fork a worker ({type(err).__name__}: {err})") from None
    requests.close()
    replies.close()
    return Worker(_Forked(process), to_worker.fileno(), from_worker.fileno(), "a worker forked from the forkserver",
                  (to_worker, from_worker))


def warm_up() -> None:
    """Start the forkserver now, without waiting for its imports."""
    from multiprocessing import forkserver  # a Unix module: not imported where spawn is the only way

    _forkserver()
    forkserver.ensure_running()


class _Forked:
    """A multiprocessing.Process seen as a subprocess.Popen."""

    def __init__(self, process):
        self.pid, self._process = process.pid, process

    def poll(self):
        return self._process.exitcode

    def wait(self):
        self._process.join()
        return self._process.exitcode

    def kill(self):
        self._process.kill()


def _forkserver():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tbcourse.runner.gc_off", *PRELOAD, "tbcourse.runner.call"])
    return context


def _serve_forked(requests, replies):
    """A worker for one lesson, in the forkserver's child: it runs the lesson's calls itself, in a process group of
    its own, so that closing it ends what they started."""
    from tbcourse.runner import call  # the forkserver imported it

    os.setsid()
    gc.freeze()  # the forkserver imported with collection off (tbcourse.runner.gc_off)
    gc.enable()
    os.environ.pop(ENV["record"], None)  # the record of verdicts is none of student code's business
    sys.path.insert(0, str(GRADED_TESTS))
    write_frame(replies.fileno(), READY)
    call.serve(requests.fileno(), replies.fileno())  # the Connections stay referenced here: they own the pipes
