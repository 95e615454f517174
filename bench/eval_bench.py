"""Benchmark of ``gradx eval`` against a hand-written vectorised script and the import cost.

Run it with the project's Python:  python bench/eval_bench.py [--repeat 5]

It times whole processes in interleaved rounds (one run of each command per round, so that
the load of a shared machine drifts over all of them) and reports the median of the per-round
ratios:
  * ``gradx eval "sin(x)" --at 1`` against ``python -c "import torch, sympy"``, the floor;
  * ``gradx eval "sin(x)*exp(-x^2/10)" --range -10:10 --steps N`` for N = 1e3 and 1e6 against
    bench/handwritten_eval.py N, which computes the same four columns by hand;
and the peak resident memory of gradx at N = 1e7 (it processes points in chunks).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXPR = "sin(x)*exp(-x^2/10)"


def gradx_cmd(n: int) -> list[str]:
    return [sys.executable, "-m", "gradx", "eval", EXPR, "--range", "-10:10", "--steps", str(n)]


def run_once(cmd: list[str]) -> float:
    start = time.perf_counter()
    env = {**os.environ, "COLUMNS": "120"}
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def interleaved(commands: dict[str, list[str]], repeat: int) -> dict[str, list[float]]:
    """Wall times per command; each round runs every command once, so load drifts hit all."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, cmd in commands.items():
            times[name].append(run_once(cmd))
    return times


def paired(times: dict[str, list[float]], a: str, b: str) -> str:
    """Median (and range) of the per-round ratios a / b, with the medians of each."""
    ratios = sorted(x / y for x, y in zip(times[a], times[b], strict=True))
    return (
        f"{a} {statistics.median(times[a]):.2f} s, {b} {statistics.median(times[b]):.2f} s; "
        f"{a} / {b} per round: median {statistics.median(ratios):.2f} "
        f"(range {ratios[0]:.2f}-{ratios[-1]:.2f}, {len(ratios)} rounds)"
    )


def peak_rss(cmd: list[str]) -> int:
    """Peak RSS (KiB) of one run, measured in a fresh child that only runs ``cmd``."""
    probe = (
        "import resource, subprocess, sys;"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *cmd], check=True, capture_output=True, text=True
    )
    return int(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-1e7", action="store_true", help="skip the 10-million-point run")
    args = parser.parse_args()

    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    imports_cmd = [sys.executable, "-c", "import torch, sympy"]
    one_point = [sys.executable, "-m", "gradx", "eval", "sin(x)", "--at", "1"]
    t = interleaved({"gradx --at 1": one_point, "import torch, sympy": imports_cmd}, args.repeat)
    print("one point:      " + paired(t, "gradx --at 1", "import torch, sympy"))
    for n in (1_000, 1_000_000):
        hand_cmd = [sys.executable, str(HERE / "handwritten_eval.py"), str(n)]
        t = interleaved({"gradx": gradx_cmd(n), "hand-written": hand_cmd}, args.repeat)
        print(f"N = {n:>9,}:  " + paired(t, "gradx", "hand-written"))
    if not args.skip_1e7:
        start = time.perf_counter()
        rss = peak_rss(gradx_cmd(10_000_000))
        wall = time.perf_counter() - start
        print(f"N = 10,000,000: gradx {wall:.1f} s, peak RSS {rss / 1024:.0f} MiB")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
