"""One manifest: every exercise has a marked solution, a stub, a hint and graded tests with points."""
import ast
import re

import pytest

from tbcourse.build import exercise_ids, lesson_names
from tbcourse.manifest import exercises, graded_points
from tbcourse.paths import ROOT

MANIFEST = exercises()
SYLLABUS = ROOT.parent / "shared" / "syllabus.md"


@pytest.mark.parametrize("ex", sorted(MANIFEST))
def test_exercise_is_marked_in_its_function(ex):
    info = MANIFEST[ex]
    source = (ROOT / "solutions" / f"{info.lesson}.py").read_text(encoding="utf-8")
    functions = {node.name: node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}
    assert info.function in functions, f"{info.lesson} has no function {info.function}"
    body = ast.get_source_segment(source, functions[info.function])
    assert f"BEGIN SOLUTION {ex}:" in body, f"{ex}'s solution marker is not inside {info.function}()"
    assert info.hint.strip(), f"{ex} has no hint"


def test_manifest_markers_and_tests_agree():
    marked = {ex for name in lesson_names() for ex in exercise_ids((ROOT / "solutions" / f"{name}.py").read_text())}
    graded = graded_points()
    assert marked == set(MANIFEST), f"marked but not in the manifest, or the reverse: {marked ^ set(MANIFEST)}"
    assert set(graded) == set(MANIFEST), f"exercises without graded tests, or tests of unknown ones: " \
                                         f"{set(graded) ^ set(MANIFEST)}"
    assert all(p > 0 for p in graded.values())


@pytest.mark.skipif(not SYLLABUS.exists(), reason="the syllabus lives in ../shared/, absent here")
def test_manifest_matches_the_syllabus():
    rows = dict(re.findall(r"^\| (\d\d\.\d+) \| `(\w+)\(", SYLLABUS.read_text(encoding="utf-8"), re.M))
    written = {name[:2] for name in lesson_names()}
    assert {ex: MANIFEST[ex].function for ex in MANIFEST} == {ex: fn for ex, fn in rows.items() if ex[:2] in written}
