"""Benchmark of ``gradx eval`` against a hand-written vectorised script and the import cost.

Run it with the project's Python:  python bench/eval_bench.py [--repeat 5]

It times, as separate processes (median of --repeat runs):
  * ``gradx eval "sin(x)*exp(-x^2/10)" --range -10:10 --steps N`` for N = 1e3 and 1e6;
  * bench/handwritten_eval.py N, which computes the same four columns by hand;
  * ``python -c "import torch, sympy"``, the floor both pay;
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


def interleaved(commands: dict[str, list[str]], repeat: int) -> dict[str, tuple[float, float]]:
    """(median, min) wall time per command; runs are interleaved so that load drifts hit all."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, cmd in commands.items():
            times[name].append(run_once(cmd))
    return {name: (statistics.median(t), min(t)) for name, t in times.items()}


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

    imports_cmd = [sys.executable, "-c", "import torch, sympy"]
    for n in (1_000, 1_000_000):
        hand_cmd = [sys.executable, str(HERE / "handwritten_eval.py"), str(n)]
        t = interleaved(
            {"gradx": gradx_cmd(n), "hand": hand_cmd, "imports": imports_cmd}, args.repeat
        )
        (g, g_min), (h, h_min), (i, i_min) = t["gradx"], t["hand"], t["imports"]
        print(
            f"N = {n:>9,}: median gradx {g:.2f} s, hand-written {h:.2f} s, imports {i:.2f} s "
            f"(min {g_min:.2f} / {h_min:.2f} / {i_min:.2f})\n"
            f"              gradx / hand-written = {g / h:.2f} (min {g_min / h_min:.2f}), "
            f"gradx / imports = {g / i:.2f} (min {g_min / i_min:.2f})"
        )
    if not args.skip_1e7:
        start = time.perf_counter()
        rss = peak_rss(gradx_cmd(10_000_000))
        wall = time.perf_counter() - start
        print(f"N = 10,000,000: gradx {wall:.1f} s, peak RSS {rss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
