"""Fixtures shared by the graded tests. Student code is reached only through tbcourse.grading.student."""
import random

import pytest
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


@pytest.fixture
def rng():
    """A random.Random with a fresh seed each run, so that a canned answer fails."""
    return random.Random(random.SystemRandom().randrange(2**32))
