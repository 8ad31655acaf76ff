"""The hidden checks: the instructor's grade runs them with the public ones (tests/graded/), whose fixtures and
helpers they share; they never ship to students (tbcourse.authoring.release leaves this folder out)."""
import sys

from tbcourse.settings import GRADED_TESTS

sys.path.insert(0, str(GRADED_TESTS))
from fixtures import alexnet, logdir, rng, truth, writer  # noqa: E402, F401 - pytest finds fixtures by their names here
