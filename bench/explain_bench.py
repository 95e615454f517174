"""Benchmark of ``gradx explain-error``: start-up cost and matching throughput on big logs.

Run it with the project's Python:  python bench/explain_bench.py [--repeat 7]

It times, as separate processes (median and min of --repeat interleaved runs):
  * ``python -c pass``, the interpreter floor;
  * ``gradx --help``;
  * ``gradx explain-error backward-twice`` (a catalog id: no matching);
  * ``gradx explain-error "RuntimeError: element 0 …"`` (one message);
  * ``gradx explain-error`` reading a 4 MiB training log whose last lines hold a traceback;
and in-process (best of --repeat), ``explain_text`` on logs of 1, 4 and 16 MiB: plain noise
with the error at the end, and the same size made of one autograd warning repeated.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ELEMENT_0 = "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn"
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/home/ana/train.py", line 37, in main\n'
    "    loss.backward()\n"
    f"{ELEMENT_0}\n"
)
NOISE = "epoch 3 | step 991 | loss 0.2231 | lr 1.0e-04 | grad_norm 1.23 | tok/s 15000\n"
WARNING = (
    "/home/ana/train.py:12: UserWarning: The .grad attribute of a Tensor that is not a leaf "
    "Tensor is being accessed. Its .grad attribute won't be populated during "
    "autograd.backward().\n  print(h.grad)\n"
)


def log_of(size: int, line: str, tail: str = TRACEBACK) -> str:
    return line * (size // len(line)) + tail


def run_once(cmd: list[str], stdin_path: str | None) -> float:
    env = {**os.environ, "COLUMNS": "100"}
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        start = time.perf_counter()
        subprocess.run(cmd, stdin=stdin, stdout=subprocess.DEVNULL, env=env, check=False)
        return time.perf_counter() - start
    finally:
        if stdin_path:
            stdin.close()


def startup(repeat: int) -> None:
    gradx = [sys.executable, "-m", "gradx"]
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False, encoding="utf-8") as log:
        log.write(log_of(4 * 1024 * 1024 - len(TRACEBACK), NOISE))
    commands = {
        "python -c pass": ([sys.executable, "-c", "pass"], None),
        "gradx --help": ([*gradx, "--help"], None),
        "explain-error backward-twice": ([*gradx, "explain-error", "backward-twice"], None),
        "explain-error MESSAGE": ([*gradx, "explain-error", ELEMENT_0], None),
        "explain-error < 4 MiB log": ([*gradx, "explain-error"], log.name),
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    try:
        for _ in range(repeat):
            for name, (cmd, stdin) in commands.items():
                times[name].append(run_once(cmd, stdin))
    finally:
        os.unlink(log.name)
    print(f"start-up, separate processes, median (min) of {repeat} interleaved runs")
    for name, values in times.items():
        print(f"  {name:32s} {statistics.median(values):6.3f} s  ({min(values):.3f} s)")


def throughput(repeat: int) -> None:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
    from gradx.commands.explain.catalog import load_catalog
    from gradx.commands.explain.explainer import explain_text

    load_catalog()  # parse the catalog once, as the CLI does, before timing
    print(f"explain_text in-process, best of {repeat}")
    for mib in (1, 4, 16):
        for label, line in (("noise + traceback", NOISE), ("one warning repeated", WARNING)):
            text = log_of(mib * 1024 * 1024, line)
            best = float("inf")
            for _ in range(repeat):
                start = time.perf_counter()
                result = explain_text(text, "en")
                best = min(best, time.perf_counter() - start)
            found = ", ".join(f"{f.entry_id}×{f.count}" for f in result.findings)
            print(f"  {mib:3d} MiB {label:22s} {best:6.3f} s  {mib / best:6.1f} MiB/s  [{found}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    startup(args.repeat)
    throughput(max(1, args.repeat // 2))


if __name__ == "__main__":
    main()
