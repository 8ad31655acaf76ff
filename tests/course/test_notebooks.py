"""Lessons as notebooks (tbcourse.grading.notebooks): the pairing is lossless, every reference notebook runs top
to bottom in a real Jupyter kernel and logs what its script logs, and work done in a notebook is graded."""
import asyncio
import difflib
import json
import os
import shutil
import subprocess
import sys

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from tbcourse import settings
from tbcourse.grading.notebooks import STATE, build, sync, to_script
from tbcourse.kit.events import accumulator
from tbcourse.kit.paths import latest_run
from tbcourse.settings import OFFLINE_ENV, ROOT, SOLUTIONS, Settings, lesson_names

LESSONS = lesson_names()
SCRIPTS = [folder / f"{name}.py" for folder in (SOLUTIONS, settings.LESSONS) for name in lesson_names(folder)]
ANSWER_01_3 = "return img.round().clamp(0, 255).to(torch.uint8)"


def is_check_cell(cell) -> bool:
    return cell.cell_type == "code" and "from tbcourse.kit.check import check" in cell.source


def logged(lesson_runs) -> dict:
    """Per run folder (relative to the lesson run's own): every tag of each kind, with its steps."""
    found = {}
    for run in sorted({event.parent for event in lesson_runs.rglob("events.out.tfevents.*")}):
        acc, tags = accumulator(run), {}
        for kind, names in acc.Tags().items():
            read = {"images": acc.Images, "scalars": acc.Scalars, "histograms": acc.Histograms,
                    "tensors": acc.Tensors}.get(kind)
            tags[kind] = {t: [e.step for e in read(t)] for t in names} if read else names
        found[str(run.relative_to(lesson_runs))] = tags
    return found


def lesson_copy(tmp_path, source="lessons"):
    """A copy of a folder of lesson scripts with its notebooks built, as `make notebooks` leaves it."""
    work = tmp_path / source
    work.mkdir()
    scripts = [shutil.copy2(ROOT / source / f"{name}.py", work) for name in lesson_names(ROOT / source)]
    assert len(build(work)) == len(scripts)
    return work


def edit_notebook(path, exercise, answer):
    """Replace the stub of `exercise` by `answer` in the notebook only, as a student does in Jupyter."""
    nb = nbformat.read(path, as_version=4)
    [cell] = [c for c in nb.cells if f"TODO({exercise})" in c.source]
    cell.source = "\n".join(line[: len(line) - len(line.lstrip())] + answer if f"TODO({exercise})" in line else line
                            for line in cell.source.splitlines())
    cell.metadata.update(editable=True, tags=[])  # JupyterLab's cell metadata: it must not reach the script
    cell.execution_count, cell.outputs = 3, [nbformat.v4.new_output("stream", text="ran\n")]
    nbformat.write(nb, path)
    return cell.source


async def execute_all(notebooks: dict, cwd, env, at_once=2) -> dict:
    """lesson -> None, or the error of its notebook, run `at_once` kernels at a time."""
    limit = asyncio.Semaphore(at_once)

    async def execute(nb):
        async with limit:
            try:
                await NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}}).async_execute(env=env)
            except Exception as err:  # a failing cell: report it on that lesson's test
                return f"{type(err).__name__}: {err}"[-3000:]

    return dict(zip(notebooks, await asyncio.gather(*map(execute, notebooks.values()))))


@pytest.fixture(scope="session")
def notebook_results(tmp_path_factory):
    """Every reference notebook run top to bottom in a python3 kernel, two at a time, without its last
    cell (the check, which grades; test_check_cell_grades_the_notebook runs it):
    (runs folder, notebook folder, {lesson: None or the error})."""
    folder = lesson_copy(tmp_path_factory.mktemp("notebooks"), "solutions")
    runs = tmp_path_factory.mktemp("notebook_runs")
    notebooks = {name: nbformat.read(folder / f"{name}.ipynb", as_version=4) for name in LESSONS}
    for nb in notebooks.values():
        nb.cells = [cell for cell in nb.cells if not is_check_cell(cell)]
    env = {**os.environ, **Settings(runs=runs).env(), OFFLINE_ENV: "1", "PYTHONDONTWRITEBYTECODE": "1",
           "OMP_NUM_THREADS": "1"}  # two kernels at once on two cores, as the scripts run
    return runs, folder, asyncio.run(execute_all(notebooks, folder, env))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_script_to_notebook_to_script_is_lossless(tmp_path, script):
    shutil.copy2(script, tmp_path)
    build(tmp_path)
    nb = nbformat.read(tmp_path / f"{script.stem}.ipynb", as_version=4)
    assert nb.metadata.jupytext.formats == "ipynb,py:percent", "the notebook is not paired with its script"
    assert not any(cell.get("outputs") for cell in nb.cells), "a built notebook holds outputs"
    text, back = script.read_text(encoding="utf-8"), to_script(nb)
    diff = "".join(list(difflib.unified_diff(text.splitlines(True), back.splitlines(True), n=0))[2:10])
    assert back == text, f"the round trip changed {script.parent.name}/{script.name}:\n{diff}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_reference_notebook_logs_what_its_script_logs(notebook_results, demo_results, lesson):
    runs, _, errors = notebook_results
    assert errors[lesson] is None, f"solutions/{lesson}.ipynb failed in the kernel: {errors[lesson]}"
    script_runs, done, _ = demo_results
    assert done[lesson].returncode == 0, f"solutions/{lesson}.py failed as a script:\n{done[lesson].stderr[-2000:]}"
    want, got = logged(latest_run(script_runs / lesson)), logged(latest_run(runs / lesson))
    assert want, f"{lesson} wrote no logs as a script"
    assert got == want, f"as a notebook {lesson} logged {got}, as a script {want}"


def test_reference_notebooks_write_only_their_logs(notebook_results):
    _, folder, _ = notebook_results
    strays = [p.name for p in folder.iterdir() if p.suffix not in (".py", ".ipynb") and p.name != STATE]
    assert not strays, f"running the notebooks wrote into their folder: {strays}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_ends_with_its_check_cell(lesson):
    """The build writes it (no source carries one by hand), and it runs only in a notebook's kernel."""
    nb = jupytext.read(settings.LESSONS / f"{lesson}.py", fmt="py:percent")
    assert is_check_cell(nb.cells[-1]) and f'check("{lesson}")' in nb.cells[-1].source, \
        f"the last cell of lessons/{lesson}.py is not the check cell of {lesson} (see tbcourse/authoring/build.py)"
    assert '"ipykernel" in sys.modules' in nb.cells[-1].source, "the check cell would also run in a script"
    source = jupytext.read(SOLUTIONS / f"{lesson}.py", fmt="py:percent")
    assert not any(is_check_cell(cell) for cell in source.cells), f"solutions/{lesson}.py carries a check cell"


def test_notebook_edit_earns_its_points_under_make_test(tmp_path):
    work = lesson_copy(tmp_path)
    edit_notebook(work / "01_add_image.ipynb", "01.3", ANSWER_01_3)
    proc = subprocess.run([sys.executable, "-m", "tbcourse.grading.grade", "--work", str(work), "--lesson", "01",
                           "--report", str(tmp_path / "grade.json")], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)
    assert "synced 01_add_image.py from 01_add_image.ipynb" in proc.stdout, proc.stdout[-2000:]
    results = json.loads((tmp_path / "grade.json").read_text())["exercises"]
    assert results["01.3"]["passed"] and results["01.3"]["points"] > 0, results["01.3"]
    for ex in ("01.1", "01.2"):
        assert results[ex]["points"] == 0 and f"TODO({ex})" in results[ex]["message"], results[ex]
    assert ANSWER_01_3 in (work / "01_add_image.py").read_text(), "the script did not get the notebook's answer"


def test_check_cell_grades_the_notebook(tmp_path):
    """The lesson's last cell, run in a kernel beside the saved notebook: sync, grade, scorecard."""
    work = lesson_copy(tmp_path)
    nb = nbformat.read(work / "01_add_image.ipynb", as_version=4)
    assert is_check_cell(nb.cells[-1]), "lesson 01's last cell is not the check cell"
    edit_notebook(work / "01_add_image.ipynb", "01.3", ANSWER_01_3)
    only_check = nbformat.v4.new_notebook(cells=[nb.cells[-1]], metadata=nb.metadata)
    asyncio.run(execute_all({"01": only_check}, work, {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}))
    shown = "".join(out.get("text", "") for out in only_check.cells[0].outputs)
    assert "synced 01_add_image.py from 01_add_image.ipynb" in shown, shown
    rows = {line.split()[1]: line for line in shown.splitlines() if line.startswith("01_add_image")}
    assert "2/2" in rows["01.3"] and "pass" in rows["01.3"], shown
    assert "FAIL" in rows["01.1"] and "FAIL" in rows["01.2"], shown


# sync: which side changed since the notebook was built decides what is graded; nothing is lost.

def pair(tmp_path):
    work = tmp_path / "w"
    work.mkdir()
    shutil.copy2(ROOT / "lessons" / "01_add_image.py", work)
    build(work)
    return work / "01_add_image.py", work / "01_add_image.ipynb"


def edit_script(script, line):
    script.write_text(script.read_text() + line)


def set_mtimes(script, notebook, script_newer):
    old, new = 1_000_000_000, 1_000_000_100
    os.utime(script, (new, new) if script_newer else (old, old))
    os.utime(notebook, (old, old) if script_newer else (new, new))


def test_sync_notebook_edit_replaces_the_script(tmp_path):
    script, notebook = pair(tmp_path)
    answer = edit_notebook(notebook, "01.3", ANSWER_01_3)
    set_mtimes(script, notebook, script_newer=True)  # mtimes lie after a copy: the recorded pairing decides
    assert sync(script.parent) == ["synced 01_add_image.py from 01_add_image.ipynb"]
    assert answer in script.read_text() and "editable" not in script.read_text()
    assert sync(script.parent) == [], "a second sync found something to do"


def test_sync_script_edit_alone_is_left_as_it_is(tmp_path):
    script, notebook = pair(tmp_path)
    edit_script(script, "\nEDITED = 1\n")
    before = script.read_text()
    assert sync(script.parent) == [] and script.read_text() == before


def test_sync_both_edited_notebook_newer_keeps_the_script_as_backup(tmp_path):
    script, notebook = pair(tmp_path)
    edit_script(script, "\nEDITED = 1\n")
    edited = script.read_text()
    answer = edit_notebook(notebook, "01.3", ANSWER_01_3)
    set_mtimes(script, notebook, script_newer=False)
    [said] = sync(script.parent)
    [backup] = script.parent.glob("01_add_image.py.*.bak")
    assert said.startswith("synced ") and backup.name in said, said
    assert answer in script.read_text() and backup.read_text() == edited


def test_sync_both_edited_script_newer_grades_the_script_and_says_so(tmp_path):
    script, notebook = pair(tmp_path)
    edit_notebook(notebook, "01.3", ANSWER_01_3)
    edit_script(script, "\nEDITED = 1\n")
    edited = script.read_text()
    set_mtimes(script, notebook, script_newer=True)
    [said] = sync(script.parent)
    assert "graded the script" in said and script.read_text() == edited
    build(script.parent)
    assert ANSWER_01_3 in notebook.read_text(), "make notebooks overwrote the notebook's own edits"


def test_sync_unreadable_notebook_grades_the_script(tmp_path):
    script, notebook = pair(tmp_path)
    before = script.read_text()
    notebook.write_text("{ not json")
    [said] = sync(script.parent)
    assert said.startswith("could not read") and script.read_text() == before


def test_build_refreshes_a_notebook_whose_script_changed_keeping_outputs(tmp_path):
    script, notebook = pair(tmp_path)
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="kept\n")]
    nbformat.write(nb, notebook)
    edit_script(script, "\n# %%\nEDITED = 1\n")
    assert len(build(script.parent)) == 1
    nb = nbformat.read(notebook, as_version=4)
    assert to_script(nb) == script.read_text() and nb.cells[1].outputs[0].text == "kept\n"
