"""Every reference lesson runs as a script and logs under runs/NN_topic/<date>_<time>/, a new folder each run;
every untouched lesson runs to its end, skipping the demo steps of its TODOs; importing one does nothing."""
import importlib.util
import os
import re

import pytest

from tbcourse.kit.events import accumulator
from tbcourse.kit.paths import latest_run, run_dir
from tbcourse.settings import ENV, ROOT, lesson_names

LESSONS = lesson_names()


@pytest.mark.parametrize("lesson", LESSONS)
def test_runs_as_a_script_and_logs(demo_results, lesson):
    runs, done, cwd = demo_results
    proc = done[lesson]
    assert proc.returncode == 0, f"{lesson} failed:\n{proc.stderr[-3000:]}"
    folders = {path.parent for path in (runs / lesson).rglob("events.out.tfevents.*")}
    assert folders, f"{lesson} wrote no event file under runs/{lesson}/"
    for folder in folders:
        tags = accumulator(folder).Tags()
        assert any(tags[kind] for kind in ("images", "scalars", "histograms", "tensors")) or tags["graph"], \
            f"{lesson} wrote an empty event file in {folder.relative_to(runs)}"
    assert not list(cwd.iterdir()), f"a lesson wrote into the current folder: {list(cwd.iterdir())}"
    assert [path.name for path in (runs / lesson).iterdir()] == [latest_run(runs / lesson).name], \
        f"one run of {lesson} should log into one folder runs/{lesson}/<date>_<time>/"


@pytest.mark.parametrize("lesson", LESSONS)
def test_untouched_lesson_runs_to_its_end_skipping_its_todos(untouched_results, lesson):
    _, done, _ = untouched_results
    proc = done[lesson]
    assert proc.returncode == 0, f"lessons/{lesson}.py stopped:\n{proc.stderr[-3000:]}"
    skipped = re.findall(r"^skipped: TODO\((\d\d)\.\d+\): \S", proc.stdout, re.M)
    assert skipped and set(skipped) == {lesson[:2]}, f"lessons/{lesson}.py should skip its TODOs:\n{proc.stdout}"
    assert "logs written to" in proc.stdout, f"lessons/{lesson}.py did not reach its end:\n{proc.stdout[-2000:]}"


def test_each_run_logs_to_a_new_folder_and_keeps_the_earlier_ones(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV["runs"], str(tmp_path))
    first = run_dir("01_add_image")
    (first / "events.out.tfevents.earlier").write_bytes(b"")
    second = run_dir("01_add_image")  # mostly within the same second: then <date>_<time>_2
    assert second != first and (first / "events.out.tfevents.earlier").exists() and not any(second.iterdir())
    assert second.parent == first.parent == tmp_path / "01_add_image"
    assert latest_run(tmp_path / "01_add_image") == second


@pytest.mark.parametrize("folder", ["solutions", "lessons"])
@pytest.mark.parametrize("lesson", LESSONS)
def test_import_writes_nothing(tmp_path, monkeypatch, folder, lesson):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV["runs"], str(tmp_path / "runs"))
    spec = importlib.util.spec_from_file_location(f"{folder}_{lesson}", ROOT / folder / f"{lesson}.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert not os.listdir(tmp_path), f"importing {folder}/{lesson}.py wrote {os.listdir(tmp_path)}"
