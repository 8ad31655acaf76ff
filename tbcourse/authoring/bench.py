"""`make bench`: wall time and peak memory of grading, beside the floor of one import.

The floor is a bare ``python -c "import torch, torchvision, tensorboard"``, measured in the same run,
because the machine is shared and noisy: compare the ratios, not seconds across runs. Then one
``make test WORK=solutions``, and a class of ``--students`` copies of the solutions graded by
``make grade`` (goal: at most half the time of grading them one by one).
"""
import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tbcourse.settings import ROOT

SINGLE_GOAL = 3.0  # grading a whole submission within 3x the floor
CLASS_GOAL = 0.5  # a class within half the time of its students graded one after another

# Runs COMMAND in a fresh process and prints its wall time and the peak RSS (KiB) of all it started.
PROBE = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
         "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
         "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def measure(command: list[str], repeat: int = 1) -> tuple[float, float]:
    """(median wall seconds, peak MiB) of ``command``."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", PROBE, *command], capture_output=True, text=True, check=True)
        seconds, kib = out.stdout.split()
        runs.append((float(seconds), int(kib) / 1024))
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30, help="size of the class graded (0: none)")
    args = parser.parse_args(argv)
    rows = [("floor: import torch, torchvision, tensorboard",
             measure([sys.executable, "-c", "import torch, torchvision, tensorboard"], repeat=3))]
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(("make test WORK=solutions (whole course)",
                     measure([sys.executable, "-m", "tbcourse.grading.grade", "--work", str(ROOT / "solutions"),
                              "--report", f"{tmp}/grade.json"])))
        report = json.loads(Path(tmp, "grade.json").read_text())
        if args.students:
            for k in range(args.students):
                shutil.copytree(ROOT / "solutions", Path(tmp, "class", f"student{k:02d}"),
                                ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
            rows.append((f"make grade: a class of {args.students} copies",
                         measure([sys.executable, "-m", "tbcourse.grading.gradebook", f"{tmp}/class",
                                  "--reports", f"{tmp}/reports"])))
            book = Path(tmp, "reports", "gradebook.csv").read_text().splitlines()[1:]
    floor, single = rows[0][1][0], rows[1][1][0]
    print(f"{'what':<46}{'wall s':>8}{'peak MiB':>10}{'x floor':>9}")
    for name, (seconds, mib) in rows:
        print(f"{name:<46}{seconds:>8.1f}{mib:>10.0f}{seconds / floor:>9.1f}")
    print(f"solutions scored {report['total']}/{report['max']}")
    print(f"goal: one submission within {SINGLE_GOAL:.0f}x the floor -> "
          f"{'met' if single / floor <= SINGLE_GOAL else 'NOT met'} ({single / floor:.1f}x)")
    if args.students:
        full = sum(line.endswith(f",{report['max']},{report['max']},graded") for line in book)
        ratio = rows[2][1][0] / (args.students * single)
        print(f"class: {rows[2][1][0] / args.students:.1f} s per student against {single:.1f} s for one make test; "
              f"{full}/{args.students} full marks")
        print(f"goal: the class within {CLASS_GOAL:.0%} of {args.students} single runs -> "
              f"{'met' if ratio <= CLASS_GOAL else 'NOT met'} ({ratio:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
