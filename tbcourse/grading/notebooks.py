"""Lessons as Jupyter notebooks, paired with their scripts by jupytext.

    python -m tbcourse.grading.notebooks build [folder ...]     (`make notebooks`: lessons/ and solutions/)

``build`` writes ``NN_topic.ipynb`` beside every ``NN_topic.py``: the script's cells, no outputs, paired
(jupytext formats ``ipynb,py:percent``, so ``jupytext --sync`` and Jupyter's jupytext extension work
on them too). Notebooks are build products: git ignores them.

The graded tests import the scripts, so the grader first calls ``sync(folder)``: a notebook the
student edited writes its code back into its script. Each folder keeps, in ``.notebook-sync.json``,
the script text (its SHA-256) each notebook was last paired with, which tells what changed since:

- only the notebook: its code replaces the script;
- only the script: nothing to do, the script is what gets graded;
- both: the newer file wins. A newer notebook replaces the script, which is first copied to
  ``NN_topic.py.<time>.bak``; a newer script is graded as it is, with a warning that the notebook's
  edits are not in it. Nothing a student wrote is ever deleted.

Without a record (a folder copied without it), a notebook that differs from its script counts as
"both changed".

The last cell of every lesson calls ``tbcourse.kit.check.check("NN_topic")``, which does this from inside
the notebook.
"""
import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import jupytext
from jupytext.combine import combine_inputs_with_outputs

from tbcourse.i18n import _
from tbcourse.settings import LESSON_GLOB, LESSONS, SOLUTIONS

FORMATS = "ipynb,py:percent"
STATE = ".notebook-sync.json"
MAX_STATE_BYTES = 64 * 2**10  # a digest per lesson: a bigger record is no record of ours
KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
# Of a cell's metadata, only the marks of a translation (tbcourse.authoring.translations) go into the script.
CELL_METADATA = "lang,en,-all"


def to_notebook(script: str):
    """The notebook of a percent script: its cells, no outputs, paired with it, on the python3 kernel."""
    nb = jupytext.reads(script, fmt="py:percent")
    nb.metadata["jupytext"].update(formats=FORMATS, notebook_metadata_filter="-all", cell_metadata_filter=CELL_METADATA)
    nb.metadata["kernelspec"] = dict(KERNEL)
    return nb


def to_script(nb) -> str:
    """The percent script of a notebook: its code and markdown only (sets jupytext's filters so that the
    script gets no header and no cell metadata but a translation's marks, whatever Jupyter stored in the notebook)."""
    nb.metadata.setdefault("jupytext", {}).update(notebook_metadata_filter="-all", cell_metadata_filter=CELL_METADATA)
    return jupytext.writes(nb, fmt="py:percent")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _load_state(folder: Path) -> dict:
    """The folder's record; empty when it is missing, too big, not JSON, too deeply nested or not an object."""
    try:
        with open(folder / STATE, "rb") as record:
            state = json.loads(record.read(MAX_STATE_BYTES + 1)[:MAX_STATE_BYTES])
    except (OSError, ValueError, RecursionError):
        return {}
    return {k: v for k, v in state.items() if isinstance(v, str)} if isinstance(state, dict) else {}


def _save_state(folder: Path, state: dict) -> None:
    write_text(folder / STATE, json.dumps(state, indent=1, sort_keys=True) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write a file, never through a symbolic link (a link at ``path`` is an error, not followed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        out.write(text)


def sync(work_dir) -> list[str]:
    """Write into each script of ``work_dir`` the code of its notebook when the notebook was edited.

    Returns one line per script written, and per notebook whose edits could not be taken (unreadable,
    or older than independent edits of its script).
    """
    folder = Path(work_dir).resolve()
    state, said = _load_state(folder), []
    for notebook in sorted(folder.glob(f"{LESSON_GLOB}.ipynb")):
        script, lesson = notebook.with_suffix(".py"), notebook.stem
        if notebook.is_symlink() or script.is_symlink():
            said.append(_("{notebook} or {script} is a symbolic link: not synced; graded {script} as it is").format(
                notebook=notebook.name, script=script.name))
            continue
        try:
            wanted = to_script(jupytext.read(notebook, fmt="ipynb"))
        except Exception as err:  # a corrupt notebook must not stop the grade
            said.append(_("could not read {notebook} ({error}); graded {script} as it is").format(
                notebook=notebook.name, error=f"{type(err).__name__}: {err}", script=script.name))
            continue
        try:
            current = script.read_text(encoding="utf-8") if script.exists() else None
        except UnicodeDecodeError:  # not text Python reads (say, saved in a Windows code page): the notebook wins
            backup = script.with_name(f"{script.name}.{time.strftime('%Y%m%d-%H%M%S')}.bak")
            with open(backup, "xb") as out:
                out.write(script.read_bytes())
            write_text(script, wanted)
            state[lesson] = _sha(wanted)
            said.append(f"{script.name} is not UTF-8 text: graded the code of {notebook.name} (the script is kept "
                        f"in {backup.name})")
            continue
        base = state.get(lesson)
        if wanted == current:
            state[lesson] = _sha(current)
            continue
        if base is not None and _sha(wanted) == base:
            continue  # only the script changed: it is what the grader reads
        script_edited = current is not None and _sha(current) != base
        if script_edited and script.stat().st_mtime >= notebook.stat().st_mtime:
            said.append(_("{notebook} has edits that {script} lacks, but the script was edited later: graded the "
                          "script. Copy the notebook's edits into it, or delete one of the two").format(
                notebook=notebook.name, script=script.name))
            continue
        note = ""
        if script_edited:
            backup = script.with_name(f"{script.name}.{time.strftime('%Y%m%d-%H%M%S')}.bak")
            write_text(backup, current)
            note = _(" (the script's own text is kept in {backup})").format(backup=backup.name)
        write_text(script, wanted)
        state[lesson] = _sha(wanted)
        said.append(_("synced {script} from {notebook}").format(script=script.name, notebook=notebook.name) + note)
    if state and not (folder / STATE).is_symlink():
        _save_state(folder, state)
    return said


def build(folder) -> list[Path]:
    """Write the missing or out-of-date notebooks of one folder; returns the notebooks written.

    Notebook edits go into the scripts first (``sync``); then a notebook whose script changed since
    they were paired gets the script's cells, keeping the outputs of the cells that did not change.
    A notebook with edits its script lacks, or that cannot be read, is left alone (``sync`` said why).
    """
    folder = Path(folder).resolve()
    for line in sync(folder):
        print(line)
    state, written = _load_state(folder), []
    for script in sorted(folder.glob(f"{LESSON_GLOB}.py")):
        text, notebook = script.read_text(encoding="utf-8"), script.with_suffix(".ipynb")
        nb = to_notebook(text)
        if notebook.exists():
            try:
                old = jupytext.read(notebook, fmt="ipynb")
            except Exception:  # unreadable: sync said so, and it may hold work worth saving by hand
                continue
            paired = to_script(old)
            if paired == text:
                state[script.stem] = _sha(text)
                continue
            if _sha(paired) != state.get(script.stem):
                continue
            nb = combine_inputs_with_outputs(nb, old)
        jupytext.write(nb, notebook, fmt="ipynb")
        state[script.stem] = _sha(text)
        written.append(notebook)
    _save_state(folder, state)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build"])
    parser.add_argument("folders", nargs="*", default=[LESSONS, SOLUTIONS],
                        help="folders of lesson scripts (default: lessons/ and solutions/)")
    args = parser.parse_args(argv)
    for folder in map(Path, args.folders):
        written = build(folder)
        print(f"{folder.name}/: " + (f"wrote {', '.join(p.name for p in written)}" if written
                                     else "the notebooks are up to date"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
