"""One manifest: every exercise has a marked solution, a stub and graded tests with points (its hints: test_hints.py)."""
import ast
import re

import pytest

from tbcourse.authoring.build import exercise_ids
from tbcourse.grading.manifest import exercises, graded_points
from tbcourse.settings import MANIFEST as MANIFEST_FILE
from tbcourse.settings import ROOT, SOLUTIONS, SYLLABUS, lesson_names

MANIFEST = exercises()


@pytest.mark.parametrize("ex", sorted(MANIFEST))
def test_exercise_is_marked_in_its_function(ex):
    info = MANIFEST[ex]
    source = (ROOT / "solutions" / f"{info.lesson}.py").read_text(encoding="utf-8")
    functions = {node.name: node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}
    assert info.function in functions, f"{info.lesson} has no function {info.function}"
    body = ast.get_source_segment(source, functions[info.function])
    assert f"BEGIN SOLUTION {ex}:" in body, f"{ex}'s solution marker is not inside {info.function}()"


def test_manifest_markers_and_tests_agree():
    marked = {ex for name in lesson_names() for ex in exercise_ids((ROOT / "solutions" / f"{name}.py").read_text())}
    graded = graded_points()
    assert marked == set(MANIFEST), f"marked but not in the manifest, or the reverse: {marked ^ set(MANIFEST)}"
    assert set(graded) == set(MANIFEST), f"exercises without graded tests, or tests of unknown ones: " \
                                         f"{set(graded) ^ set(MANIFEST)}"
    assert all(p > 0 for p in graded.values())


def parameters(args: ast.arguments) -> str:
    """A signature's parameters and defaults, annotations left out: ``writer, size=512``."""
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
        arg.annotation = None
    return ast.unparse(args)


def signatures(lesson: str) -> dict[str, str]:
    """function -> its parameters as the solution writes them."""
    source = (SOLUTIONS / f"{lesson}.py").read_text(encoding="utf-8")
    return {node.name: parameters(node.args) for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}


def test_manifest_matches_the_syllabus():
    """The course's own contract, docs/syllabus.md: every exercise row names the manifest's function with
    the solution's signature, and every exercise of the course has its row."""
    rows = {ex: (fn, params) for ex, fn, params
            in re.findall(r"^\| (\d\d\.\d+) \| `(\w+)\((.*?)\)(?: -> [^`]*)?` \|", SYLLABUS.read_text(encoding="utf-8"), re.M)}
    assert set(rows) == set(MANIFEST), f"syllabus rows and manifest differ: {set(rows) ^ set(MANIFEST)}"
    for ex, info in MANIFEST.items():
        fn, params = rows[ex]
        params = parameters(ast.parse(f"def {fn}({params}): pass").body[0].args)
        assert fn == info.function, f"{ex}: the syllabus names {fn}(), the manifest {info.function}()"
        assert params == signatures(info.lesson)[fn], \
            f"{ex}: the syllabus's signature {fn}({params}) is not the solution's {fn}({signatures(info.lesson)[fn]})"


def test_manifest_runs_in_course_order():
    text = MANIFEST_FILE.read_text(encoding="utf-8")
    ids = re.findall(r'^\[exercises\."(\d\d\.\d+)"\]', text, re.M)
    assert ids == sorted(ids, key=lambda ex: tuple(map(int, ex.split(".")))), "exercises.toml is out of course order"
    assert "lesson =" not in text, "an exercise's lesson is derived from its id; the manifest should not repeat it"
