"""Fixtures shared by the graded tests. Student code is reached only through tbcourse.grading.student."""
import random

import pytest
import torchvision
from torch.utils.tensorboard import SummaryWriter


@pytest.fixture
def logdir(tmp_path):
    return tmp_path / "run"


@pytest.fixture
def writer(logdir):
    """An open SummaryWriter for the exercise to log into; the test closes it, never the student."""
    w = SummaryWriter(log_dir=str(logdir))
    yield w
    w.close()


@pytest.fixture(scope="module")
def alexnet():
    """A random AlexNet (torchvision's own initialisation, never a download), one for a lesson's tests: they do not
    change it, and student code runs apart, so it cannot. One instead of one per test: making it takes half a
    second, and a boundary's worker is sent its 244 MB only once."""
    return torchvision.models.alexnet(weights=None)


@pytest.fixture
def rng():
    """A random.Random with a fresh seed each run, so that a canned answer fails."""
    return random.Random(random.SystemRandom().randrange(2**32))
