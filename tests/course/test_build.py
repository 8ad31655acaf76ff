"""The one-source build: lessons/ is exactly what solutions/ makes, and bad markers are errors."""
import pytest

from tbcourse.authoring.build import MarkerError, build, strip_solutions

SOURCE = '''def f(x):
    """Doc."""
    ### BEGIN SOLUTION 09.1: return x doubled
    y = 2 * x
    return y
    ### END SOLUTION


def g():
    return 1
'''


def test_lessons_are_the_build_of_solutions():
    assert build(check=True) == [], "lessons/ differs from the build of solutions/: run `make lessons`"


def test_marked_region_becomes_a_stub_with_its_instruction():
    out = strip_solutions(SOURCE)
    assert "2 * x" not in out and "def g():" in out
    namespace = {}
    exec(out, namespace)
    with pytest.raises(NotImplementedError, match=r"^TODO\(09\.1\): return x doubled$"):
        namespace["f"](1)


@pytest.mark.parametrize("broken, complaint", [
    (SOURCE.replace("    ### END SOLUTION\n", "", 1), "never closed"),
    (SOURCE.replace("    ### BEGIN SOLUTION 09.1: return x doubled\n", "", 1), "without a BEGIN"),
    (SOURCE.replace("    y = 2 * x\n", "    ### BEGIN SOLUTION 09.2: nested\n", 1), "inside the one opened"),
    (SOURCE.replace("09.1: return", "09.1 return", 1), "malformed marker"),
])
def test_bad_markers_are_errors(broken, complaint):
    with pytest.raises(MarkerError, match=complaint):
        strip_solutions(broken)
