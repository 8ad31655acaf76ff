"""No code that ships solves an exercise: every function of the public graded tests (tests/graded/, which a student
release holds) is graded as if it were an exercise's function, on that exercise's public checks, and must earn
nothing. A helper that computes a test's expectation from the same inputs as the exercise (a parameter count
read from the model, a shape from torchinfo) would pass, and hand the answer to whoever reads the tests.

A helper is tried as each exercise of its lesson whose arguments it can take (the first ones, in the stub's order),
all of them at once, in a lesson file that calls it for each; a helper that itself calls student code, or needs
pytest's fixtures, is a check, not a candidate answer."""
import ast
import inspect
import json
import shutil
import subprocess
import sys
import types

import pytest

from graded_modules import SHARED, load
from tbcourse.grading.manifest import exercises
from tbcourse.settings import ROOT, SOLUTIONS, graded_test_files, lesson_of_test



def stub_signatures(lesson: str) -> dict[str, ast.FunctionDef]:
    """Exercise function name -> its definition in the lesson's source."""
    tree = ast.parse((SOLUTIONS / f"{lesson}.py").read_text(encoding="utf-8"))
    wanted = {ex.function for ex in exercises().values() if ex.lesson == lesson}
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in wanted}


def candidates(module: types.ModuleType) -> dict[str, types.FunctionType]:
    """The module's own plain functions that could stand for an exercise: not tests, not fixtures, not a
    function that calls student code (``lesson``) or pytest."""
    found = {}
    for name, value in vars(module).items():
        if not inspect.isfunction(value) or value.__module__ != module.__name__ or name.startswith(("test_", "_")):
            continue
        names = set(value.__code__.co_names) | {n for c in value.__code__.co_consts if isinstance(c, types.CodeType)
                                                for n in c.co_names}
        if not names & {"lesson", "pytest"}:
            found[name] = value
    return found


def fits(helper, stub: ast.FunctionDef) -> int | None:
    """How many of the stub's arguments to hand ``helper`` (as many as it takes, at least those it needs), or None."""
    params = [p for p in inspect.signature(helper).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = sum(p.default is p.empty for p in params)
    given = len(stub.args.args)
    if required > given or any(p.kind is p.KEYWORD_ONLY and p.default is p.empty
                               for p in inspect.signature(helper).parameters.values()):
        return None
    return min(len(params), given) if params or not required else None


def lesson_file(module_name: str, helper: str, stubs: dict[str, tuple[ast.FunctionDef, int]]) -> str:
    lines = ["import sys", "from tbcourse.settings import GRADED_TESTS", "sys.path.insert(0, str(GRADED_TESTS))",
             f"import {module_name} as shipped", ""]
    for name, (stub, count) in stubs.items():
        args = [a.arg for a in stub.args.args]
        header = ast.unparse(stub.args)
        lines += [f"def {name}({header}):", f"    return shipped.{helper}({', '.join(args[:count])})", ""]
    return "\n".join(lines)


def cases():
    """(lesson, module name, helper name, {exercise function: (stub, arguments handed)}) for every candidate."""
    out = []
    for path in graded_test_files():
        lesson = lesson_of_test(path)
        stubs = stub_signatures(lesson)
        for module_name in [path.stem, *SHARED]:
            module = load(module_name)
            for name, helper in candidates(module).items():
                fitting = {fn: (stub, n) for fn, stub in stubs.items() if (n := fits(helper, stub)) is not None}
                if fitting:
                    out.append(pytest.param(lesson, module_name, name, fitting, id=f"{lesson}-{module_name}.{name}"))
    return out


CASES = cases()
pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None,
                                reason="needs bubblewrap: sudo apt-get install bubblewrap")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every candidate as a student of one class (a lesson file that calls it), graded at once: student -> grade."""
    class_dir, reports = tmp_path_factory.mktemp("class"), tmp_path_factory.mktemp("reports")
    for case in CASES:
        lesson, module_name, helper, stubs = case.values
        (class_dir / case.id).mkdir()
        (class_dir / case.id / f"{lesson}.py").write_text(lesson_file(module_name, helper, stubs), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "tbcourse.grading.gradebook", str(class_dir), "--reports", str(reports),
                    "--timeout", "20"], cwd=ROOT, capture_output=True, timeout=1800)  # inside bubblewrap: a helper
    # that writes (log_truth, handed a writer for a folder) writes only the sandbox's scratch folder
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in (reports / "grades").glob("*.json")}


@pytest.mark.parametrize("lesson, module_name, helper, stubs", CASES)
def test_no_shipped_helper_passes_an_exercise(request, graded, lesson, module_name, helper, stubs):
    student = request.node.callspec.id
    assert student in graded, f"{student} was not graded"
    results = graded[student]["exercises"]
    passed = {ex: r["points"] for ex, r in results.items() if r["function"] in stubs and r["points"]}
    assert not passed, f"{module_name}.{helper} (shipped in tests/graded/) earns points as {passed}: it is an answer"
