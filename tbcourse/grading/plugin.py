"""pytest plugin for graded tests: each test names its exercise and points, and leaves a record.

A graded test is marked ``@pytest.mark.exercise("01.2", points=3)``. With ``GRADE_RECORD`` set to a
file, the plugin appends one JSON line when a test is collected (its exercise and points, and whether it is a
hidden check, from tests/hidden/, before any student code runs) and when it ends (passed or not, and a
one-line reason). The grade driver
(``tbcourse.grading.grade``) reads those lines; a test that never ended failed with the grading process.
"""
import gc
import json
from pathlib import Path

import pytest

from tbcourse.i18n import _
from tbcourse.runner import api
from tbcourse.settings import HIDDEN_TESTS, Settings, lesson_of_test

MAX_MESSAGE = 400
_timed_out = {}  # exercise id -> the message of its test that ran past the time limit
_unusable = {}  # lesson -> why its file cannot be used at all, or None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Start what will run student code (the forkserver, or a boundary's worker) now, before the graded tests'
    conftest and modules import torch here: its imports and the checks' own run side by side."""
    api.warm_up(Settings.from_env())
    gc.collect()  # a warm process (make watch, a class's checker): what the last session left, before the freeze
    gc.disable()  # while the conftest and the test modules import torch and the rest: a fifth faster


def pytest_collection_finish(session):
    gc.freeze()  # what is imported by now stays out of every collection: pytest's at the end, the tests' own
    gc.enable()


def pytest_unconfigure(config):
    gc.enable()  # a warm process (make watch, a class's checker) goes on collecting even if collection failed


@pytest.hookimpl(tryfirst=True)  # the first cleanup registered is the last run: after pytest's own collection
def pytest_configure(config):
    config.add_cleanup(gc.unfreeze)  # a warm process goes on: the session's objects may be collected again
    config.addinivalue_line("markers", "exercise(id, points): the syllabus exercise a graded test checks")
    _timed_out.clear()  # a warm process (make watch) runs one session after another: each starts afresh
    _unusable.clear()


def _record(**fields):
    path = Settings.from_env().record
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(fields) + "\n")


def pytest_collection_modifyitems(config, items):
    for item in items:
        mark = item.get_closest_marker("exercise")
        if mark is None or "points" not in mark.kwargs:
            raise pytest.UsageError(f"{item.nodeid}: a graded test needs @pytest.mark.exercise(id, points=n)")
        _record(event="collected", test=item.nodeid, exercise=mark.args[0], points=mark.kwargs["points"],
                hidden=Path(str(item.fspath)).resolve().is_relative_to(HIDDEN_TESTS))


def pytest_runtest_setup(item):
    """Fail at once, without building the test's inputs, when the lesson file cannot be used at all
    (tested once per lesson), or when an earlier test of the exercise ran past the time limit."""
    from tbcourse.grading.student import lesson_problem  # imports torch: not before the worker is started

    lesson = lesson_of_test(Path(str(item.fspath)))
    if lesson not in _unusable:
        _unusable[lesson] = lesson_problem(lesson)
    exercise = item.get_closest_marker("exercise").args[0]
    message = _unusable[lesson] or _timed_out.get(exercise)
    if message:
        pytest.fail(message, pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and not hasattr(item, "grade_message"):
        item.grade_message = reason(call.excinfo) if call.excinfo else _("failed")
        if call.excinfo and _timed_out_in(call.excinfo.value, api.TIMED_OUT):
            _timed_out[item.get_closest_marker("exercise").args[0]] = item.grade_message
    if report.when == "teardown":
        message = getattr(item, "grade_message", "")
        _record(event="result", test=item.nodeid, passed=not message, message=message)


def _timed_out_in(err, timed_out: str) -> bool:
    """Whether the test failed for running past the time limit: the sandbox's, or pytest-timeout's own."""
    text = err.msg if isinstance(err, pytest.fail.Exception) else str(err)
    return text.startswith((timed_out, "Timeout"))


def reason(excinfo) -> str:
    """One line that tells a student what went wrong, without a traceback."""
    err = excinfo.value
    if isinstance(err, pytest.fail.Exception):
        text = err.msg
        if text.startswith("Timeout"):
            text = _("ran past the time limit ({seconds}): an endless loop, or far too slow?").format(
                seconds=text.split('>')[-1].split()[0])  # the sandbox's TIMED_OUT, pytest-timeout's time
    elif isinstance(err, NotImplementedError) and str(err).startswith("TODO("):  # a stub's own, not a library's
        text = _("not done yet: {todo}").format(todo=err)
    elif isinstance(err, AssertionError):
        text = str(err).split("\nassert ")[0]
    elif isinstance(err, api.StudentError):
        text = str(err)
    else:
        text = f"{type(err).__name__}: {err}"
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"

