"""The code's layout (CONTRIBUTING, "Where things live"): packages that say who they are for, short modules,
the runner reached through its face only, and no import that runs in a circle."""
import ast

import pytest

from tbcourse.settings import PACKAGE

MAX_LINES = 350
FACE = "tbcourse.runner.api"


def module_name(path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str) -> set[str]:
    """The course's modules that module ``name`` imports, anywhere in it (a function's lazy import too)."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from package import module`
    return {target for target in found if target in MODULES and target != name}


GRAPH = {name: imports(name) for name in MODULES}


def test_no_import_runs_in_a_circle():
    done, path = set(), []

    def visit(name):
        if name in path:
            pytest.fail("an import cycle: " + " -> ".join(path[path.index(name):] + [name]))
        if name in done:
            return
        path.append(name)
        for target in sorted(GRAPH[name]):
            visit(target)
        path.pop()
        done.add(name)

    for name in MODULES:
        visit(name)


def test_the_cycle_finder_finds_a_cycle(monkeypatch):
    monkeypatch.setitem(GRAPH, "tbcourse.runner.framing", GRAPH["tbcourse.runner.framing"] | {"tbcourse.runner.call"})
    with pytest.raises(pytest.fail.Exception, match="an import cycle: .*tbcourse.runner.framing"):
        test_no_import_runs_in_a_circle()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_module_fits_on_a_few_screens(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[name]} has {lines} lines: split it (at most {MAX_LINES})"


@pytest.mark.parametrize("package", sorted(n for n, p in MODULES.items() if p.name == "__init__.py"))
def test_each_package_says_what_it_holds_and_who_may_import_it(package):
    doc = ast.get_docstring(ast.parse(MODULES[package].read_text(encoding="utf-8")))
    assert doc and "import" in doc.lower(), f"{MODULES[package]}: its docstring says what it holds and who may import it"


def test_the_runner_is_reached_through_its_face_and_knows_no_grader():
    for name, targets in GRAPH.items():
        inside = [t for t in targets if t.startswith("tbcourse.runner") and t != "tbcourse.runner"]
        if not name.startswith("tbcourse.runner"):
            assert set(inside) <= {FACE}, f"{name} imports {sorted(set(inside) - {FACE})}: use {FACE}"
        else:
            assert not [t for t in targets if t.startswith(("tbcourse.grading", "tbcourse.platforms",
                                                            "tbcourse.authoring"))], f"{name} imports the grader"


def test_the_face_imports_no_torch():
    """The grading plugin starts the workers through the face before the checks import torch."""
    import subprocess
    import sys

    code = f"import sys, {FACE}; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
