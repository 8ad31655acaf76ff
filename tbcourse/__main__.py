"""The course's commands, the same on Windows, macOS and Linux: ``python -m tbcourse <command>``.

    python -m tbcourse setup [--torch auto|cpu|pypi]          make .venv and install what the course needs
    python -m tbcourse run [--work lessons] [--lesson 01]     run lessons as scripts, logging to runs/
    python -m tbcourse test [--work lessons] [--lesson 01]    grade: a scorecard and reports/grade.json
    python -m tbcourse watch [--work lessons] [--lesson 01]   regrade a lesson each time it is saved
    python -m tbcourse hint 02.3 | --reset [02.3]             the next hint for an exercise; start over
    python -m tbcourse progress                               every exercise, done or to do, with points
    python -m tbcourse notebooks [--work lessons]             a Jupyter notebook beside every lesson
    python -m tbcourse tensorboard [--port 6006]              look at runs/ in TensorBoard
    python -m tbcourse --lang zh <command>                    messages in Chinese (en: English; also COURSE_LANG)

Run with any Python 3.10 or newer once the course is set up: every command but setup and hint runs itself
again in the course's .venv. Nothing here needs make, a shell or fork.
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

from tbcourse.grading.manifest import exercises
from tbcourse.i18n import LANG_ENV, LANGUAGES, _, use
from tbcourse.settings import (HINTS_SEEN, LESSONS, ROOT, TESTED_PINS, TORCH_CPU_INDEX, VENV, VENV_STAMP, Settings,
                               lesson_names, venv_python)

TENSORBOARD_PORT = 6006


def run(work: Path, lesson: str | None) -> int:
    """Run each lesson of ``work`` (or the one numbered ``lesson``) as a script, in course order."""
    names = [name for name in lesson_names(work) if lesson is None or name[:2] == lesson[:2]]
    if not names:
        print(_("error: no lesson {lesson} in {work}").format(lesson=lesson or "", work=work), file=sys.stderr)
        return 2
    for name in names:
        print(f"== {work.name}/{name}.py", flush=True)
        code = subprocess.call([sys.executable, str(work / f"{name}.py")])
        if code:
            return code
    print("\n" + _("Logs are in runs/. Look at them: make tensorboard, then open http://127.0.0.1:6006"))
    return 0


def id_ranges(ids) -> str:
    """``00.1-00.3, 01.1-01.3, ...``: the exercise ids, lesson by lesson."""
    by_lesson = {}
    for ex in ids:
        by_lesson.setdefault(ex[:2], []).append(ex)
    return ", ".join(f"{group[0]}-{group[-1]}" for group in by_lesson.values())


def hint(exercise: str | None, reset: bool, seen_file: Path) -> int:
    """Print the next hint level of ``exercise`` and remember it in ``seen_file``; the last level repeats.
    ``reset`` forgets the levels seen, of ``exercise`` or of every exercise. Pure Python: no make, no shell."""
    manifest = exercises()
    if exercise not in manifest and not (reset and exercise is None):
        which = _("no exercise {exercise!r}.").format(exercise=exercise) if exercise else _("which exercise?")
        print(_("error: {which} An exercise id is NN.k, as on the scorecard: {ids} (e.g. python -m tbcourse hint "
                "02.3)").format(which=which, ids=id_ranges(manifest)), file=sys.stderr)
        return 2
    try:
        seen = json.loads(seen_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, or unreadable: every exercise starts at its first level
        seen = {}
    if reset:
        seen = {ex: n for ex, n in seen.items() if exercise not in (None, ex)}
        print((_("Forgot the hints seen of {exercise}: the next one starts at level 1.") if exercise else
               _("Forgot the hints seen of every exercise: the next one starts at level 1.")).format(exercise=exercise))
    else:
        levels = manifest[exercise].hints
        level = min(seen.get(exercise, 0) + 1, len(levels))
        seen[exercise] = level
        print(_("{exercise} {function}(), hint {level} of {levels}:").format(
            exercise=exercise, function=manifest[exercise].function, level=level, levels=len(levels)))
        print(textwrap.fill(_(levels[level - 1]), width=100, initial_indent="  ", subsequent_indent="  "))
        print(_("That is the last hint for {exercise}: it repeats from now on.").format(exercise=exercise)
              if level == len(levels) else _("Still stuck? The same command gives hint {next} of {levels}.").format(
                  next=level + 1, levels=len(levels)))
    seen_file.parent.mkdir(parents=True, exist_ok=True)
    seen_file.write_text(json.dumps(seen, indent=2) + "\n", encoding="utf-8")
    return 0


def nvidia_driver() -> bool:
    """Whether this machine has an NVIDIA driver loaded (Linux's /proc entry, or nvidia-smi)."""
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


def torch_first(choice: str, system: str, nvidia: bool) -> list[str]:
    """pip's arguments to install torch and torchvision before the requirements, or none. On Linux PyPI's torch
    brings the CUDA libraries (GBs): without an NVIDIA driver (``auto``), or with ``cpu``, the tested versions
    come from torch's CPU-only index instead. ``pypi`` keeps PyPI's default; Windows and macOS get CPU wheels
    from PyPI anyway."""
    if choice == "cpu" or (choice == "auto" and system == "Linux" and not nvidia):
        return ["install", "--index-url", TORCH_CPU_INDEX, *TESTED_PINS]
    return []


def setup(dev: bool, torch: str = "auto") -> int:
    """Make the course's .venv with this Python and install what the lessons and the grader need."""
    if sys.version_info < (3, 10):
        print(_("error: the course needs Python 3.10 or newer (this is {version}); on Windows, py -3.11 -m tbcourse "
                "setup").format(version=sys.version.split()[0]), file=sys.stderr)
        return 2
    if not venv_python().exists():
        print(_("making {venv} ...").format(venv=VENV), flush=True)
        venv.create(VENV, with_pip=True)
    needs = ["-r", str(ROOT / "requirements.txt")]
    if dev and (ROOT / "requirements-dev.txt").exists():
        needs += ["-r", str(ROOT / "requirements-dev.txt")]
    cpu = torch_first(torch, platform.system(), nvidia_driver())
    if cpu:
        print(_("installing torch's CPU-only wheels from {index} (no GPU driver here; --torch pypi: PyPI's)").format(
            index=TORCH_CPU_INDEX))
    steps = [["install", "--upgrade", "pip"], *([cpu] if cpu else []), ["install", *needs],
             ["install", "--no-deps", "-e", str(ROOT)]]
    for step in steps:
        code = subprocess.call([str(venv_python()), "-m", "pip", "--disable-pip-version-check", *step])
        if code and step is cpu and torch == "auto":  # the index out of reach (offline, a mirror only): PyPI's
            print(_("could not install from {index}; torch comes from PyPI instead (--torch pypi)").format(
                index=TORCH_CPU_INDEX))
            continue
        if code:
            print(_("error: pip {step} failed (exit code {code}); see its output above").format(
                step=" ".join(step[:2]), code=code), file=sys.stderr)
            return code
    VENV_STAMP.touch()  # make's targets then find the venv built, as `make setup` leaves it
    launcher = "py -3.11" if os.name == "nt" else "python3"  # as the README's table says it
    print(_("the course is set up in {venv}. Next: {launcher} -m tbcourse test (or watch, while you work)").format(
        venv=VENV, launcher=launcher))
    return 0


def in_course_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def tensorboard(port: int) -> int:
    try:
        return subprocess.call([sys.executable, "-m", "tensorboard.main", "--logdir", str(Settings.from_env().runs),
                                "--host", "127.0.0.1", "--port", str(port),
                                "--samples_per_plugin", "images=1000,histograms=1000,scalars=10000"])
    except KeyboardInterrupt:
        return 0


def command_line() -> argparse.ArgumentParser:
    """The commands and their options, described in the language in force."""
    parser = argparse.ArgumentParser(prog="python -m tbcourse",
                                     description=_("the course's commands, the same on Windows, macOS and Linux"))
    parser.add_argument("--lang", choices=LANGUAGES, help=_(
        "the language of messages (default: {env}, else the language of the release, else the system's)").format(
        env=LANG_ENV))
    commands = parser.add_subparsers(dest="command", required=True)
    p_run = commands.add_parser("run", help=_("run lessons as scripts, logging to runs/NN_topic/"))
    p_run.add_argument("--work", type=Path, default=LESSONS, help=_("folder of lesson scripts (default: lessons/)"))
    p_run.add_argument("--lesson", help=_("only this lesson, e.g. 01"))
    p_setup = commands.add_parser("setup", help=_("make .venv and install what the course needs"))
    p_setup.add_argument("--dev", action="store_true", help=_("also what the course's own checks need (authors)"))
    p_setup.add_argument("--torch", choices=["auto", "cpu", "pypi"], default="auto",
                         help=_("where torch comes from: auto (Linux without an NVIDIA driver: torch's CPU-only index; "
                                "else PyPI), cpu (that index), pypi (PyPI's default, with CUDA on Linux)"))
    for name, helps in (("test", _("grade lessons: a scorecard and reports/grade.json")),
                        ("watch", _("regrade a lesson each time it is saved (Ctrl-C to stop)"))):
        sub = commands.add_parser(name, help=helps)
        sub.add_argument("--work", type=Path, default=LESSONS, help=_("folder of lesson files (default: lessons/)"))
        sub.add_argument("--lesson", help=_("only this lesson, e.g. 01"))
        sub.add_argument("--start-method", choices=["fork", "spawn"], help=_(
            "how student code is started (default: fork on Linux, spawn elsewhere; also COURSE_START_METHOD)"))
    commands.add_parser("progress", help=_("every exercise, done or to do, with points"))
    p_notebooks = commands.add_parser("notebooks", help=_("write NN_topic.ipynb beside every lesson, paired with it"))
    p_notebooks.add_argument("--work", type=Path, default=LESSONS,
                             help=_("folder of lesson scripts (default: lessons/)"))
    p_board = commands.add_parser("tensorboard", help=_("serve runs/ on http://127.0.0.1:6006"))
    p_board.add_argument("--port", type=int, default=TENSORBOARD_PORT)
    p_hint = commands.add_parser("hint", help=_("the next hint for an exercise, one level more each time"))
    p_hint.add_argument("exercise", nargs="?", help=_("the exercise's id, e.g. 02.3"))
    p_hint.add_argument("--reset", action="store_true", help=_("forget the hints seen (of the exercise, if named)"))
    p_hint.add_argument("--seen", type=Path, default=HINTS_SEEN,
                        help=_("the file that remembers the hints seen (default: {path})").format(path=HINTS_SEEN))
    return parser


def main(argv=None) -> int:
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--lang", choices=LANGUAGES)
    lang = first.parse_known_args(argv)[0].lang
    if lang:
        use(lang)  # before anything speaks, --help included; the processes started from here inherit it
    parser = command_line()
    args = parser.parse_args(argv)
    if args.command == "setup":
        return setup(args.dev, args.torch)
    if args.command == "hint":
        return hint(args.exercise, args.reset, args.seen)
    if not in_course_venv() and venv_python().exists():  # run again with the course's own libraries
        return subprocess.call([str(venv_python()), "-m", "tbcourse", *(sys.argv[1:] if argv is None else argv)])
    if args.command == "test":
        from tbcourse.grading import grade

        return grade.main(["--work", str(args.work), *(["--lesson", args.lesson] if args.lesson else []),
                           *(["--start-method", args.start_method] if args.start_method else [])])
    if args.command == "watch":
        from tbcourse.grading import watch

        return watch.main(args.work, args.lesson, Settings(start_method=args.start_method or ""))
    if args.command == "progress":
        from tbcourse.grading import progress

        print(progress.report())
        return 0
    if args.command == "notebooks":
        from tbcourse.grading import notebooks

        return notebooks.main(["build", str(args.work)])
    if args.command == "tensorboard":
        return tensorboard(args.port)
    return run(args.work.resolve(), args.lesson)


if __name__ == "__main__":
    sys.exit(main())
