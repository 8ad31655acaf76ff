"""Fixtures shared by the graded tests. Student code is reached only through tbcourse.student."""
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
def rng(request):
    """A random.Random with a fresh seed each run (kept in the test report), so canned answers fail."""
    seed = random.SystemRandom().randrange(2**32)
    request.node.user_properties.append(("seed", seed))
    return random.Random(seed)
