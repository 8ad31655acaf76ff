"""What students' editors and laptops produce grades exactly like the same work saved on Linux: lesson files
with CRLF line endings or a UTF-8 byte-order mark (Notepad), notebooks saved with CRLF (Windows Jupyter, git's
autocrlf), and work folders whose path holds spaces and non-ASCII characters (C:\\Users\\张三\\My Course)."""
import json
import shutil
import subprocess
import sys

import nbformat
import pytest

from tbcourse.grading.notebooks import build, sync
from tbcourse.settings import ROOT, SOLUTIONS

LESSON = "01_add_image"


def windows_text(text: str) -> bytes:
    """The bytes Notepad saves: a UTF-8 byte-order mark and CRLF line endings."""
    return b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")


def grade(work, tmp_path, *options):
    report = tmp_path / f"grade-{len(list(tmp_path.glob('grade-*.json')))}.json"
    proc = subprocess.run([sys.executable, "-m", "tbcourse.grading.grade", "--work", str(work), "--lesson", LESSON[:2],
                           "--report", str(report), *options], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert report.exists(), proc.stdout[-2000:] + proc.stderr[-2000:]
    return {ex: (r["points"], r["message"]) for ex, r in json.loads(report.read_text())["exercises"].items()}


@pytest.fixture(scope="module")
def linux_grade(tmp_path_factory):
    work = tmp_path_factory.mktemp("linux")
    shutil.copy2(SOLUTIONS / f"{LESSON}.py", work)
    return grade(work, work)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_notepad_file_in_a_windows_like_folder_grades_alike(tmp_path, linux_grade, method):
    work = tmp_path / "张三" / "My Course"
    work.mkdir(parents=True)
    (work / f"{LESSON}.py").write_bytes(windows_text((SOLUTIONS / f"{LESSON}.py").read_text(encoding="utf-8")))
    got = grade(work, tmp_path, "--start-method", method)
    assert got == linux_grade, f"a BOM, CRLF and the folder {work} changed the grade: {got} against {linux_grade}"
    assert all(points > 0 for points, _ in got.values()), got


def test_notebook_saved_with_crlf_syncs_the_same_code(tmp_path):
    """A notebook whose file and cell sources use CRLF gives the script the same code as the LF notebook."""
    paths = {}
    for kind in ("lf", "crlf"):
        work = tmp_path / kind
        work.mkdir()
        shutil.copy2(ROOT / "lessons" / f"{LESSON}.py", work)
        build(work)
        notebook = work / f"{LESSON}.ipynb"
        nb = nbformat.read(notebook, as_version=4)
        [cell] = [c for c in nb.cells if "TODO(01.3)" in c.source]
        cell.source = "\n".join(line[: len(line) - len(line.lstrip())] + "return img.clone()" if "TODO(01.3)" in line
                                else line for line in cell.source.splitlines())
        if kind == "crlf":
            cell.source = cell.source.replace("\n", "\r\n")
        nbformat.write(nb, notebook)
        if kind == "crlf":
            notebook.write_bytes(notebook.read_bytes().replace(b"\n", b"\r\n"))
        assert any("synced" in line for line in sync(work)), f"the {kind} notebook's edit was not synced"
        paths[kind] = work / f"{LESSON}.py"
    assert paths["crlf"].read_text(encoding="utf-8") == paths["lf"].read_text(encoding="utf-8"), \
        "the CRLF notebook wrote other code into its script than the LF one"
