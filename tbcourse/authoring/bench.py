"""`make bench`: wall time and peak memory of grading, beside the floor of one import.

The floor is a bare ``python -c "import torch, torchvision, tensorboard"``, measured in the same run,
because the machine is shared and noisy: compare the ratios, not seconds across runs. Then:

- ``make test WORK=solutions``, the median of three (goal: within 3x the floor);
- lesson 01 with student code in a worker forked from the forkserver and in a spawned one, as on Windows
  and macOS (goal: spawn within 2x fork);
- a class of ``--students`` copies of the solutions graded by ``make grade``, inside the bubblewrap
  boundary and without it, alternately ``--rounds`` times, the medians compared (goals: the boundary
  costs at most 15%; the class within 45% of the time of its students graded one by one);
- with ``--against REV`` (``make bench AGAINST=rev``), the same class graded by the course as it was at that
  git revision, inside bubblewrap and without it, in the same rounds: what the boundary costs now against
  what it cost then (goal: at most 10% more), each tree's boundary over its own trusted grading, so that
  checks added since are not counted as the boundary's;
- ``make watch``: from saving a lesson to its ``total:`` line (goals: a median of 1.5 s for lesson 01,
  4 s for the heaviest lesson).
"""
import argparse
import csv
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tbcourse.settings import REPORTS_ENV, ROOT, SOLUTIONS, lesson_names

GOALS = {"single": 3.0, "spawn": 2.0, "boundary": 1.15, "class": 0.45, "watch 01": 1.5, "watch heaviest": 4.0,
         "against": 1.10}
HEAVIEST = "04"  # AlexNet's feature maps: the lesson whose grading takes longest

# Runs COMMAND in a fresh process and prints its wall time and the peak RSS (KiB) of all it started.
PROBE = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
         "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
         "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def measure(command: list[str], repeat: int = 1, cwd: Path = ROOT) -> tuple[float, float]:
    """(median wall seconds, peak MiB) of ``command``, run in the course tree ``cwd`` (its code first on the path)."""
    runs, env = [], {**os.environ, "PYTHONPATH": str(cwd)}
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", PROBE, *command], capture_output=True, text=True, check=True,
                             cwd=cwd, env=env)
        seconds, kib = out.stdout.split()
        runs.append((float(seconds), int(kib) / 1024))
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def grade(work, report, *options) -> list[str]:
    return [sys.executable, "-m", "tbcourse.grading.grade", "--work", str(work), "--report", str(report), *options]


def watch_latency(lesson: str, saves: int = 5) -> list[float]:
    """Seconds from each save of a lesson to the ``total:`` line of ``python -m tbcourse watch``."""
    name = next(n for n in lesson_names() if n.startswith(lesson))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp, "work")
        work.mkdir()
        shutil.copy2(SOLUTIONS / f"{name}.py", work)
        watcher = subprocess.Popen([sys.executable, "-m", "tbcourse", "watch", "--work", str(work), "--lesson", lesson],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env={**os.environ, REPORTS_ENV: str(Path(tmp, "reports")), "PYTHONUNBUFFERED": "1"})
        try:
            for line in watcher.stdout:
                if "watching" in line:
                    break
            seconds = []
            for k in range(saves):
                with open(work / f"{name}.py", "a", encoding="utf-8") as lesson_file:
                    lesson_file.write(f"\n# save {k}\n")
                start = time.perf_counter()
                for line in watcher.stdout:
                    if line.startswith("total:"):
                        seconds.append(time.perf_counter() - start)
                        break
        finally:
            watcher.send_signal(signal.SIGINT)
            try:
                watcher.wait(timeout=60)
            except subprocess.TimeoutExpired:
                watcher.kill()
                watcher.wait()
                print(f"make watch LESSON={lesson} did not stop within 60 s of Ctrl-C", file=sys.stderr)
    return seconds


def verdict(name: str, ratio: float, unit: str = "x") -> str:
    goal = GOALS[name]
    shown = {"%": f"{ratio:.0%}", "s": f"{ratio:.2f} s"}.get(unit, f"{ratio:.2f}x")
    wanted = {"%": f"{goal:.0%}", "s": f"{goal:.2f} s"}.get(unit, f"{goal:.2f}x")
    return f"goal {name}: at most {wanted} -> {'met' if ratio <= goal else 'NOT met'} ({shown})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30, help="size of the class graded (0: none)")
    parser.add_argument("--rounds", type=int, default=2, help="times each class is graded, alternately (median)")
    parser.add_argument("--against", metavar="REV", help="also grade the class with the course at this git revision")
    args = parser.parse_args(argv)
    rows, goals = {}, []
    rows["floor: import torch, torchvision, tensorboard"] = floor = \
        measure([sys.executable, "-c", "import torch, torchvision, tensorboard"], repeat=3)
    with tempfile.TemporaryDirectory() as tmp:
        rows["make test WORK=solutions (whole course)"] = single = measure(grade(SOLUTIONS, f"{tmp}/grade.json"), repeat=3)
        report = json.loads(Path(tmp, "grade.json").read_text())
        goals.append(verdict("single", single[0] / floor[0]))
        for method in ("fork", "spawn"):
            rows[f"lesson 01, student code by {method}"] = measure(
                grade(SOLUTIONS, f"{tmp}/{method}.json", "--lesson", "01", "--start-method", method), repeat=3)
        goals.append(verdict("spawn", rows["lesson 01, student code by spawn"][0]
                             / rows["lesson 01, student code by fork"][0]))
        if args.students:
            for k in range(args.students):
                shutil.copytree(SOLUTIONS, Path(tmp, "class", f"student{k:02d}"),
                                ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
            configs = [("inside bubblewrap", [], ROOT), ("trusted, no boundary", ["--trusted"], ROOT)]
            if args.against:
                then = Path(tmp, "against")
                subprocess.run(["git", "worktree", "add", "--detach", str(then), args.against], cwd=ROOT, check=True,
                               capture_output=True)
                configs += [(f"inside bubblewrap, at {args.against}", [], then),
                            (f"trusted, no boundary, at {args.against}", ["--trusted"], then)]
            books, runs = {}, {}
            try:
                for n in range(args.rounds):  # alternately, so that the machine's drift falls on all alike
                    for k, (name, options, tree) in enumerate(configs):
                        reports = Path(tmp, f"reports-{k}-{n}")  # fresh: no grade taken from a cache
                        runs.setdefault(name, []).append(measure(
                            [sys.executable, "-m", "tbcourse.grading.gradebook", f"{tmp}/class", "--reports",
                             str(reports), *options], cwd=tree))
                        books[name] = list(csv.DictReader((reports / "gradebook.csv").read_text(
                            encoding="utf-8-sig").splitlines()))
            finally:
                if args.against:
                    subprocess.run(["git", "worktree", "remove", "--force", str(then)], cwd=ROOT, check=False)
            for name, measured in runs.items():
                rows[f"make grade: {args.students} students, {name}"] = (
                    statistics.median(seconds for seconds, _ in measured), max(mib for _, mib in measured))
            boxed = rows[f"make grade: {args.students} students, inside bubblewrap"][0]
            trusted = rows[f"make grade: {args.students} students, trusted, no boundary"][0]
            goals.append(verdict("boundary", boxed / trusted))
            goals.append(verdict("class", boxed / (args.students * single[0]), "%"))
            goals.append(f"  (the class graded without the boundary: {trusted / (args.students * single[0]):.0%})")
            if args.against:
                then_boxed = rows[f"make grade: {args.students} students, inside bubblewrap, at {args.against}"][0]
                then_trusted = rows[f"make grade: {args.students} students, trusted, no boundary, at {args.against}"][0]
                goals.append(verdict("against", (boxed / trusted) / (then_boxed / then_trusted)))
                goals.append(f"  (the boundary {boxed / trusted:.2f}x now, {then_boxed / then_trusted:.2f}x at "
                             f"{args.against}; the class inside bubblewrap {boxed / then_boxed:.2f}x its time then)")
    for lesson, goal in (("01", "watch 01"), (HEAVIEST, "watch heaviest")):
        latency = watch_latency(lesson)
        rows[f"make watch LESSON={lesson}: save to verdict, median of {len(latency)}"] = (statistics.median(latency), 0)
        goals.append(verdict(goal, statistics.median(latency), "s"))
    print(f"{'what':<56}{'wall s':>8}{'peak MiB':>10}{'x floor':>9}")
    for name, (seconds, mib) in rows.items():
        print(f"{name:<56}{seconds:>8.1f}{mib:>10.0f}{seconds / floor[0]:>9.1f}")
    print(f"solutions scored {report['total']}/{report['max']}")
    if args.students:
        for name, book in books.items():
            full = sum(row["status"] == "graded" and row["max"] and float(row["total"]) == float(row["max"])
                       for row in book)  # each tree's own maximum (checks were added since an older revision)
            print(f"class {name}: {full}/{args.students} full marks")
    print("\n".join(goals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
