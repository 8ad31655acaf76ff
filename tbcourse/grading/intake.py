"""What the grader reads of a submission, bounded: its lesson files, found without following a link or recursing.

A submission is student data, and hostile when someone else grades it: the folder walk goes at most
``MAX_DEPTH`` folders deep and looks at most at ``MAX_ENTRIES`` entries, iteratively (a tree of a thousand
nested folders costs nothing); a file is read at most ``MAX_FILE_BYTES``; a notebook-sync record at most
``MAX_RECORD_BYTES``, and one that is not a flat JSON object is ignored. A name the student chose is shown
through ``shown``, so that no terminal escape in it reaches the instructor's terminal.
"""
import json
import os
import re
from collections import defaultdict, deque
from pathlib import Path

from tbcourse.grading.labels import LABELS
from tbcourse.grading.notebooks import STATE as NOTEBOOK_STATE
from tbcourse.settings import lesson_names

MAX_DEPTH = 16  # folders below the submission's top that are searched
MAX_ENTRIES = 50_000  # entries looked at in one submission
MAX_FILE_BYTES = 50 * 2**20
MAX_RECORD_BYTES = 64 * 2**10  # a notebook-sync record: a digest per lesson


def shown(name: str) -> str:
    """A name the student chose, printable: control characters (terminal escapes, newlines) as Python escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(name))


def walk(top: Path):
    """(folder, file names) for ``top`` and the folders below it, breadth first, iteratively: hidden folders,
    ``__pycache__`` and symbolic links are passed over, and the walk stops at ``MAX_DEPTH`` and ``MAX_ENTRIES``."""
    pending, seen = deque([(Path(top), 0)]), 0
    while pending:
        folder, depth = pending.popleft()
        files = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    seen += 1
                    if seen > MAX_ENTRIES:
                        return
                    if entry.is_symlink():
                        continue
                    if entry.is_dir():
                        if depth < MAX_DEPTH and not entry.name.startswith(".") and entry.name != "__pycache__":
                            pending.append((Path(entry.path), depth + 1))
                    elif entry.is_file():
                        files.append(entry.name)
        except OSError:  # unreadable, or gone since it was listed
            continue
        yield folder, files


class Ambiguous(ValueError):
    """Several files of one folder look like the same lesson, none under its own name."""


def lesson_of(filename: str, lessons: set[str]) -> tuple[str, str] | None:
    """(lesson, what came before it) for a lesson file however a download renamed it: ``01_add_image.py``,
    ``01_add_image (1).py``, ``03_alexnet_kernels-1.ipynb``, ``doejane_1234_5678_02_make_grid.py`` (an LMS's
    prefix, returned as the second item); None for anything else."""
    stem, dot, suffix = filename.rpartition(".")
    if not dot or suffix not in ("py", "ipynb"):
        return None
    stem = DOWNLOAD_COPY.sub("", stem)
    for lesson in lessons:
        if stem == lesson:
            return lesson, ""
        if stem.endswith("_" + lesson):
            return lesson, stem[:-len(lesson) - 1]
    return None


DOWNLOAD_COPY = re.compile(r"(?: \(\d{1,3}\)|-\d{1,3})$")  # what browsers and LMSs add to a name they already have


def lesson_files(submission: Path) -> list[Path]:
    """The student's lesson files, wherever they are in ``submission``: loose, in a folder, or in a whole
    clone. Each lesson's script and notebook come from one folder: a ``lessons/`` folder first, else the
    one nearest the top. In a folder, a lesson's own name wins over a renamed copy (``01_add_image (1).py``);
    two renamed copies and no original are ``Ambiguous``. With them, the notebook-sync record of each such
    folder. Hidden folders are passed over, and no symbolic link is followed."""
    names, chosen = set(lesson_names()), {}
    for top, files in walk(submission):
        where = top.relative_to(submission)
        rank = (where.name != "lessons", len(where.parts), where.as_posix())
        here = defaultdict(list)
        for name in files:
            match = lesson_of(name, names)
            if match:
                here[(match[0], name.rpartition(".")[2])].append(name)
        for (lesson, suffix), candidates in here.items():
            exact = f"{lesson}.{suffix}"
            if exact not in candidates and len(candidates) > 1:
                raise Ambiguous(LABELS["ambiguous"].format(names=", ".join(sorted(map(shown, candidates))),
                                                           folder=shown(where.as_posix()), lesson=exact))
            picked = top / (exact if exact in candidates else candidates[0])
            if regular(picked):
                chosen.setdefault(lesson, {}).setdefault(rank, {})[suffix] = picked
    found = []
    for lesson, by_rank in chosen.items():
        found += by_rank[min(by_rank)].values()
    folders = {p.parent for p in found}
    return sorted(p for p in [*found, *(folder / NOTEBOOK_STATE for folder in folders)] if regular(p))


def canonical(path: Path) -> str:
    """The name a lesson file is graded under: its lesson's own (``01_add_image (1).py`` -> ``01_add_image.py``)."""
    match = lesson_of(path.name, set(lesson_names()))
    return f"{match[0]}{path.suffix}" if match else path.name


def regular(path: Path) -> bool:
    return not path.is_symlink() and path.is_file()


def read_regular(source: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file, refusing a symbolic link even if one appeared since it was listed."""
    fd = os.open(source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as src:
        return src.read(limit)


def sync_record(data: bytes) -> dict[str, str]:
    """A notebook-sync record's entries (lesson -> digest), or none when it is too big, not JSON, nested or
    not a flat object of strings."""
    if len(data) > MAX_RECORD_BYTES:
        return {}
    try:
        record = json.loads(data)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(record, dict):
        return {}
    return {k: v for k, v in record.items() if isinstance(v, str)}


def copy_lessons(files: list[Path], dest: Path) -> None:
    """Copy what ``lesson_files`` found into the one folder ``dest``. The notebook-sync records of the folders
    it came from become one, each lesson's entry taken from the folder its files came from."""
    origin, state = {canonical(p).rpartition(".")[0]: p.parent for p in files if p.name != NOTEBOOK_STATE}, {}
    for path in files:
        if path.name != NOTEBOOK_STATE:
            with open(dest / canonical(path), "xb") as out:
                out.write(read_regular(path))
            continue
        try:
            record = sync_record(read_regular(path, MAX_RECORD_BYTES + 1))
        except OSError:
            continue
        state.update((lesson, sha) for lesson, sha in record.items() if origin.get(lesson) == path.parent)
    if state:
        (dest / NOTEBOOK_STATE).write_text(json.dumps(state, indent=1), encoding="utf-8")
