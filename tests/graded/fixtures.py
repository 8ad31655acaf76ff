"""Fixtures shared by the graded tests, public (conftest.py here) and hidden (tests/hidden/conftest.py).
Student code is reached only through tbcourse.grading.student."""
import functools
import random
import shutil
import tempfile
from pathlib import Path

import pytest
import torch
import torchvision
from torch.utils.tensorboard import SummaryWriter

from tbcourse.grading.student import hold


@pytest.fixture
def logdir(tmp_path):
    return tmp_path / "run"


@pytest.fixture
def writer(logdir):
    """An open SummaryWriter for the exercise to log into; the test closes it, never the student."""
    w = SummaryWriter(log_dir=str(logdir))
    yield w
    w.close()


@functools.cache
def _alexnet():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(random.SystemRandom().randrange(2**31))
        return torchvision.models.alexnet(weights=None).eval()


@pytest.fixture(scope="session")
def alexnet():
    """A random AlexNet in eval mode, new each run (torchvision's own initialisation, never a download), one for
    the whole run, public and hidden checks alike: the tests do not change it, and student code runs apart, so it
    cannot. One instead of one per lesson: making it takes a third of a second, and student code's worker is
    handed its 244 MB as a file, once, which the checks map too (``hold``): in memory once, not twice."""
    model = _alexnet()
    hold(model)
    return model


@pytest.fixture
def rng():
    """A random.Random with a fresh seed each run, so that a canned answer fails."""
    return random.Random(random.SystemRandom().randrange(2**32))


@pytest.fixture
def truth():
    """A folder for what a test logs itself to know what to expect (a reference event file): made private to the
    checks (tempfile.mkdtemp: this user only) and outside the checks' temporary folder, which sandboxed student
    code may read. In tmp_path, the expectation could be copied instead of computed."""
    folder = Path(tempfile.mkdtemp(prefix="course-truth-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
