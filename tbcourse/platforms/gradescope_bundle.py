"""Gradescope's autograder for the course, and a run of it the way Gradescope runs it.

    python -m tbcourse.platforms.gradescope_bundle build [--zip FILE]                      (make autograder)
    python -m tbcourse.platforms.gradescope_bundle check SUBMISSION [--zip FILE] [--root DIR] [--setup]
        [--report FILE]                                            (make autograder-check SUBMISSION=dir)

Gradescope's autograder specification (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
a zip with ``setup.sh`` and ``run_autograder`` at its root. Gradescope unpacks it into /autograder/source
and runs setup.sh once, as root, to build the image; for each submission it copies run_autograder to
/autograder/run_autograder and runs it in /autograder, the upload in /autograder/submission, and takes
the grade from /autograder/results/results.json.

``build`` writes ``dist/autograder.zip``: the grader part of the student release
(``tbcourse.authoring.release``) — ``tbcourse/`` without ``authoring/``, the built ``lessons/`` (which
tell the grader what lessons import), ``tests/graded/``, ``exercises.toml``, ``data/``, ``requirements.txt``,
``pyproject.toml`` — and no ``solutions/``; it fails, naming file and line, if a line of an answer is anywhere
in that part. Then the instructor's part: the hidden checks (``tests/hidden/``) and the answer key they read
(``tests/keys/faces_review.json``), stored readable by root only, so that student code run as ``nobody`` cannot
read them (bubblewrap does not bind them at all). Its ``setup.sh`` makes ``source/.venv``
with the torch and torchvision make check ran on (torch's CPU-only wheels) and the rest of
requirements.txt, and installs bubblewrap where apt-get has it; its ``run_autograder`` runs
``tbcourse.platforms.gradescope``.

``check`` lays out a root like Gradescope's — ``AUTOGRADER_ROOT``, ``--root``, or else a temporary
folder: ``source/`` (the zip unpacked), ``submission/`` (a copy of SUBMISSION, links kept as links),
``results/``, and ``run_autograder`` beside them. It runs setup.sh only with ``--setup`` (which needs
root, apt-get and the network); by default ``source/.venv`` is a thin venv over this environment's
packages, so nothing is installed. Then it runs run_autograder as Gradescope would, all its processes
together under a memory cap (``--memory-mb``, default ``MEMORY_MB``: it fails when they pass it), validates
results.json against ``docs/gradescope-results.schema.json``, prints the scores and keeps a copy in
``reports/gradescope/results.json``.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path

from jsonschema import Draft202012Validator

from tbcourse.authoring.leaks import leaks
from tbcourse.authoring.release import release
from tbcourse.platforms.gradescope import BUDGET_ENV, BUDGET_SECONDS, VISIBILITIES, VISIBILITY_ENV
from tbcourse.platforms.memory import Cap
from tbcourse.runner import api
from tbcourse.settings import (AUTOGRADER_ROOT_ENV, DATA, DIST, GRADED_TESTS, GRADESCOPE_ROOT, GRADESCOPE_SCHEMA,
                               HIDDEN_TESTS, KEYS, LESSONS, MANIFEST, PACKAGE, REPORTS, ROOT, TESTED_PINS, TESTED_PYTHON,
                               TORCH_CPU_INDEX)

ZIP = DIST / "autograder.zip"
REPORT = REPORTS / "gradescope" / "results.json"
MEMORY_MB = 2048  # the container memory the README says to choose on Gradescope; one grade peaked at 1.6 GB
SHIPPED = [PACKAGE, LESSONS, GRADED_TESTS, DATA, MANIFEST, ROOT / "requirements.txt", ROOT / "pyproject.toml"]
INSTRUCTORS = [HIDDEN_TESTS, KEYS / "faces_review.json"]  # in the zip, readable by root only


def setup_script() -> str:
    major, minor = TESTED_PYTHON.split(".")
    pins = " ".join(TESTED_PINS)
    return f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu): the course's
# Python and requirements in source/.venv, and bubblewrap. Written by tbcourse/platforms/gradescope_bundle.py.
set -euo pipefail
cd "$(dirname "$0")"
apt-get update -qq
if python3 -c 'import sys; sys.exit(sys.version_info < ({major}, {minor}))'; then
    python=python3
    apt-get install -y -qq python3-venv
else
    python=python{TESTED_PYTHON}
    apt-get install -y -qq python{TESTED_PYTHON} python{TESTED_PYTHON}-venv
fi
# The boundary student code runs in, where the container allows it; else the grader runs it as a uid of its own.
apt-get install -y -qq bubblewrap || echo "setup.sh: no bubblewrap: student code will run as a uid of its own"
"$python" -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
# The torch and torchvision make check ran on, CPU-only (no CUDA libraries); then the rest of requirements.txt.
.venv/bin/pip install --quiet --index-url {TORCH_CPU_INDEX} {pins}
.venv/bin/pip install --quiet -r requirements.txt {pins}
"""


def run_script(budget: float = BUDGET_SECONDS, visibility: str = "visible") -> str:
    return f"""#!/usr/bin/env bash
# Gradescope copies this to {GRADESCOPE_ROOT}/run_autograder and runs it for each submission; the grade is
# results/results.json. {AUTOGRADER_ROOT_ENV}: another root laid out the same (make autograder-check).
# The grade's total time (below the autograder timeout set on Gradescope) and when students see results.
export {BUDGET_ENV}="${{{BUDGET_ENV}:-{budget:g}}}"
export {VISIBILITY_ENV}="${{{VISIBILITY_ENV}:-{visibility}}}"
cd "${{{AUTOGRADER_ROOT_ENV}:-{GRADESCOPE_ROOT}}}/source"
exec .venv/bin/python -m tbcourse.platforms.gradescope
"""


def build(target: Path = ZIP, budget: float = BUDGET_SECONDS, visibility: str = "visible") -> list[str]:
    """Write the zip; the lines of answers found in what it would hold (then nothing is written)."""
    with tempfile.TemporaryDirectory(prefix="autograder-build-") as tmp:
        staging = Path(tmp)
        release(staging)
        shipped = [staging / path.relative_to(ROOT) for path in SHIPPED]
        files = sorted(f for path in shipped for f in ([path] if path.is_file() else path.rglob("*")) if f.is_file())
        found = leaks(staging)
        if found:
            return found
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".tmp")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.relative_to(staging).as_posix())
            for source in INSTRUCTORS:
                for path in [source] if source.is_file() else sorted(p for p in source.rglob("*")
                                                                     if p.suffix in (".py", ".mo")):
                    info = zipfile.ZipInfo(path.relative_to(ROOT).as_posix(), date_time=time.localtime()[:6])
                    info.external_attr = 0o100600 << 16  # a regular file, root's only
                    archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
            for name, text in (("setup.sh", setup_script()), ("run_autograder", run_script(budget, visibility))):
                info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
                info.external_attr = 0o100755 << 16  # a regular file, executable
                archive.writestr(info, text, zipfile.ZIP_DEFLATED)
        partial.replace(target)
    return []


def unpack(archive_path: Path, dest: Path) -> None:
    """Unpack the zip as unzip does: with the modes it stores (run_autograder stays executable)."""
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, dest))
            if info.external_attr >> 16:
                path.chmod(info.external_attr >> 16 & 0o777)


def thin_venv(venv: Path) -> None:
    """A venv over this environment's packages: what setup.sh installs, without installing anything."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    where = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = subprocess.run([str(venv / "bin" / "python"), "-c", where], capture_output=True, text=True,
                          check=True).stdout.strip()
    ours = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    Path(site, "course-packages.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")


def layout(archive: Path, root: Path, submission: Path, setup: bool) -> None:
    """Gradescope's layout in ``root``, as it is when run_autograder starts."""
    source = root / "source"
    unpack(archive, source)
    shutil.copytree(submission, root / "submission", symlinks=True)
    (root / "results").mkdir()
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    api.let_read(root)  # like /autograder: whoever student code runs as may read the course
    if setup:
        subprocess.run(["bash", str(source / "setup.sh")], cwd=source, check=True)
    else:
        thin_venv(source / ".venv")


def check(archive: Path, submission: Path, root: Path, setup: bool, report: Path, memory_mb: float = MEMORY_MB) -> int:
    """Run the zip on ``submission`` in ``root``, its processes together under ``memory_mb`` as in Gradescope's
    container; 0 when it stayed under and wrote a results.json the schema accepts."""
    layout(archive, root, submission, setup)
    start = time.monotonic()
    with open(root / "results" / "stdout", "w", encoding="utf-8") as stdout:  # Gradescope keeps it there
        run = subprocess.Popen([str(root / "run_autograder")], cwd=root, stdout=stdout, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env={**os.environ, AUTOGRADER_ROOT_ENV: str(root)})
        cap = Cap(run.pid, memory_mb)
        run.wait()
        cap.stop()
    seconds, written = time.monotonic() - start, root / "results" / "results.json"
    print(f"memory: the run's processes peaked at {cap.peak_mb:.0f} MB together (cap {memory_mb:.0f} MB)")
    if cap.exceeded:
        print(f"error: the run passed {memory_mb:.0f} MB and was killed, as Gradescope would kill it", file=sys.stderr)
        return 1
    if not written.exists():
        print(f"error: run_autograder (exit code {run.returncode}) wrote no results.json; its output is in "
              f"{root / 'results' / 'stdout'}", file=sys.stderr)
        return 1
    report.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(written, report)
    content = json.loads(written.read_text(encoding="utf-8"))
    schema = json.loads(GRADESCOPE_SCHEMA.read_text(encoding="utf-8"))
    errors = [f"{'/'.join(map(str, e.absolute_path)) or 'results.json'}: {e.message}"
              for e in Draft202012Validator(schema).iter_errors(content)]
    for test in content.get("tests", []):
        print(f"  {test.get('name', '?'):<32} {test.get('score')}/{test.get('max_score')}  {test.get('status')}")
    print(f"score {content.get('score')}; run_autograder took {seconds:.0f} s (exit code {run.returncode}); "
          f"copy: {report}")
    for error in errors:
        print(f"error: not Gradescope's format: {error}", file=sys.stderr)
    return 1 if errors or run.returncode else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p_build = commands.add_parser("build", help=f"write {ZIP.relative_to(ROOT)}")
    p_check = commands.add_parser("check", help="run the zip on a submission as Gradescope would")
    for sub in (p_build, p_check):
        sub.add_argument("--zip", type=Path, default=ZIP, help=f"the autograder (default: {ZIP.relative_to(ROOT)})")
    p_check.add_argument("submission", type=Path, help="a folder: what a student uploads")
    p_check.add_argument("--root", type=Path, default=os.environ.get(AUTOGRADER_ROOT_ENV) or None,
                         help=f"a new or empty folder to lay out like {GRADESCOPE_ROOT} (default: "
                              f"${AUTOGRADER_ROOT_ENV}, else a temporary one, removed afterwards)")
    p_check.add_argument("--setup", action="store_true", help="run setup.sh (root, apt-get, network) instead of "
                                                              "reusing this environment's packages")
    p_check.add_argument("--report", type=Path, default=REPORT, help="where to keep a copy of results.json")
    p_check.add_argument("--memory-mb", type=float, default=MEMORY_MB,
                         help=f"fail when the run's processes together pass this (default {MEMORY_MB})")
    p_build.add_argument("--budget", type=float, default=BUDGET_SECONDS,
                         help=f"the grade's total seconds, below Gradescope's timeout (default {BUDGET_SECONDS})")
    p_build.add_argument("--visibility", choices=VISIBILITIES, default="visible",
                         help="when students see their results (after_due_date: once the due date has passed)")
    args = parser.parse_args(argv)
    if args.command == "build":
        found = build(args.zip, args.budget, args.visibility)
        if found:
            print(f"error: {len(found)} lines of answers would ship in the autograder:", *found, sep="\n  ",
                  file=sys.stderr)
            return 1
        print(f"wrote {args.zip}: upload it as the assignment's autograder on Gradescope")
        return 0
    if not args.submission.is_dir():
        print(f"error: {args.submission} is not a folder (give the folder a student would upload)", file=sys.stderr)
        return 2
    if not args.zip.is_file():
        print(f"error: {args.zip} is missing: make autograder first", file=sys.stderr)
        return 2
    if args.root is None:
        with tempfile.TemporaryDirectory(prefix="autograder-root-") as tmp:
            return check(args.zip, args.submission.resolve(), Path(tmp), args.setup, args.report, args.memory_mb)
    if args.root.exists() and any(args.root.iterdir()):
        print(f"error: {args.root} is not empty; name a new or empty folder", file=sys.stderr)
        return 2
    args.root.mkdir(parents=True, exist_ok=True)
    return check(args.zip, args.submission.resolve(), args.root.resolve(), args.setup, args.report, args.memory_mb)


if __name__ == "__main__":
    sys.exit(main())
