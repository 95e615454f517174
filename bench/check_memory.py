"""Peak memory of ``gradx check`` per input element (issue 12, item 15).

Run it with the project's Python:  python bench/check_memory.py [--sizes 1000,2000]

For each size N it writes a small file with one target, f(x) = sin(x) * x, runs
``gradx check FILE --shape N,N --memory none`` as a subprocess, and reads the peak resident
memory of the largest process that ran (``ru_maxrss`` of the children: the worker). It prints
the peak, the peak minus the worker's start-up memory (the same check at shape 1), and that
difference per input element. Not a test: numbers depend on the machine; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCE = "import torch\n\ndef f(x):\n    return torch.sin(x) * x\n"


def peak_rss(script: Path, shape: str) -> int:
    """Peak RSS in bytes of the worker of one ``gradx check`` run, in a fresh measuring process."""
    code = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run([sys.executable, '-m', 'gradx', 'check', sys.argv[1], '--shape', "
        "sys.argv[2], '--memory', 'none', '--timeout', '3000'], capture_output=True, text=True)\n"
        "assert done.returncode == 0, done.stdout + done.stderr\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(script), shape],
        capture_output=True, text=True, check=True, env=os.environ,
    )  # fmt: skip
    return int(done.stdout.split()[-1]) * 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2000", help="N values for --shape N,N")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder, "target.py")
        script.write_text(SOURCE)
        base = peak_rss(script, "1")
        print(f"start-up (shape 1): {base / 2**20:.0f} MiB")
        print(f"{'shape':>12} {'elements':>10} {'peak MiB':>9} {'bytes/element':>14}")
        for n in (int(s) for s in args.sizes.split(",")):
            peak = peak_rss(script, f"{n},{n}")
            per = (peak - base) / (n * n)
            print(f"{f'{n},{n}':>12} {n * n:>10} {peak / 2**20:>9.0f} {per:>14.0f}")


if __name__ == "__main__":
    main()
