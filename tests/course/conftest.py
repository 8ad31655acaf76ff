"""Fixtures of the course's own checks (`make check`), and which of them are slow (`make quick` leaves those out)."""
import pytest

from tbcourse.authoring.demos import run_all
from tbcourse.kit.paths import latest_run
from tbcourse.settings import LESSONS, lesson_names


@pytest.fixture(scope="session")
def demo_results(tmp_path_factory):
    """Every reference lesson run once as a script: (runs folder, {lesson: process}, the current folder)."""
    runs, cwd = tmp_path_factory.mktemp("runs"), tmp_path_factory.mktemp("cwd")
    return runs, run_all(runs, cwd), cwd


@pytest.fixture(scope="session")
def untouched_results(tmp_path_factory):
    """Every lesson of lessons/, every exercise still a TODO, run once as a script, like demo_results."""
    runs, cwd = tmp_path_factory.mktemp("untouched_runs"), tmp_path_factory.mktemp("untouched_cwd")
    return runs, run_all(runs, cwd, work=LESSONS), cwd


@pytest.fixture(scope="session")
def demo_runs(demo_results):
    """The runs folder in which every reference lesson has run as a script (fails if one did not)."""
    runs, done, _ = demo_results
    failed = {name: proc.stderr[-2000:] for name, proc in done.items() if proc.returncode}
    assert not failed, f"reference lessons failed as scripts: {failed}"
    return runs


@pytest.fixture(scope="session")
def demo_logs(demo_runs):
    """lesson -> the folder its one run logged into, runs/<lesson>/<date>_<time>/."""
    return {lesson: latest_run(demo_runs / lesson) for lesson in lesson_names()}


# The quick tier (`make quick`, CONTRIBUTING) leaves out what grades a class or a whole release, runs every lesson
# as a script or notebook, drives the browser or attacks the boundary: whole modules, the tests that use one of
# these fixtures (by name or as a parameter), and the cases of a start method other than fork (the runner's own
# tests keep their fork cases). A test marked @pytest.mark.slow is left out too.
SLOW_MODULES = {"test_boundary", "test_tensorboard_served", "test_classroom", "test_grading", "test_figures",
                "test_held_back"}
SLOW_FIXTURES = {"demo_results", "untouched_results", "notebook_results", "graded_class", "grades", "archive",
                 "linux_grade", "graded", "chinese_grades"}
SLOW_METHODS = {"spawn", "bwrap", "unprivileged"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        params = set(map(str, getattr(getattr(item, "callspec", None), "params", {}).values()))
        if (item.module.__name__.rpartition(".")[2] in SLOW_MODULES or SLOW_FIXTURES & set(item.fixturenames)
                or (SLOW_FIXTURES | SLOW_METHODS) & params):
            item.add_marker(pytest.mark.slow)
