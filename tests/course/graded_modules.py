"""The graded tests' modules, as the course's own checks read them (not a test module)."""
import importlib
import importlib.util
import sys
import types
from pathlib import Path

from tbcourse.settings import GRADED_TESTS

sys.path.insert(0, str(GRADED_TESTS))  # what a graded test module imports: helpers, fixtures
SHARED = ["helpers", "fixtures"]  # what every lesson's graded tests may use


def load(module_name: str, folder: Path = GRADED_TESTS) -> types.ModuleType:
    """A module of tests/graded/ (or of the hidden checks' ``folder``). A lesson's graded tests are loaded under a
    name of their own: by their file's name they would stand in sys.modules for the errata tests of the same
    name, which pytest collects later."""
    if module_name in SHARED:
        return importlib.import_module(module_name)
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))  # what the hidden checks import: their own catalog's _
    spec = importlib.util.spec_from_file_location(f"graded_{module_name}", folder / f"{module_name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
