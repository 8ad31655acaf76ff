"""`make bench`: wall time and peak memory of grading the solutions, beside the floor of one import.

The floor is a bare ``python -c "import torch, torchvision, tensorboard"``, measured in the same run,
because the machine is shared and noisy: compare the ratios, not seconds across runs.
"""
import json
import statistics
import subprocess
import sys
import tempfile

from tbcourse.paths import ROOT

GOAL = 3.0  # grading a whole submission within 3x the floor

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


def main() -> int:
    floor = measure([sys.executable, "-c", "import torch, torchvision, tensorboard"], repeat=3)
    with tempfile.TemporaryDirectory() as tmp:
        grading = measure([sys.executable, "-m", "tbcourse.grade", "--work", str(ROOT / "solutions"),
                           "--report", f"{tmp}/grade.json"])
        report = json.loads(open(f"{tmp}/grade.json").read())
    print(f"{'what':<46}{'wall s':>8}{'peak MiB':>10}{'x floor':>9}")
    for name, (seconds, mib) in [("floor: import torch, torchvision, tensorboard", floor),
                                 ("make test WORK=solutions (whole course)", grading)]:
        print(f"{name:<46}{seconds:>8.1f}{mib:>10.0f}{seconds / floor[0]:>9.1f}")
    print(f"solutions scored {report['total']}/{report['max']}")
    ratio = grading[0] / floor[0]
    print(f"goal: grading within {GOAL:.0f}x the floor -> {'met' if ratio <= GOAL else 'NOT met'} ({ratio:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
