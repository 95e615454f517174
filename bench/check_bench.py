"""Benchmark of ``gradx.check`` against ``torch.autograd.gradcheck``, and of localisation.

Run it with the project's Python:  python bench/check_bench.py [--repeat 5] [--skip-million]

Part 1: f(x) = tanh(W @ x) for n = 10, 100, 1000 inputs (float64, W ~ N(0, 1/n)). In one
process, after one warm-up call each, it times (median and minimum of --repeat runs):

  * gradx.check(f, x)                      -- method "auto": the full Jacobian up to 10^4 inputs
  * gradx.check(f, x, method="projections") -- seeded random projections (localise on failure)
  * torch.autograd.gradcheck(f, (x,))        -- default (slow) mode
  * torch.autograd.gradcheck(f, (x,), fast_mode=True)

and prints the ratios. Then it compares verdicts on the correct f and on three injected backward
bugs (a vmap-able autograd.Function computing the same f): every gradient 1% too large, one
Jacobian entry 1% off, and one input element's gradient with the wrong sign.

Part 2: an autograd.Function (sin) whose backward is wrong in one element among 10^6 inputs:
the number of function evaluations gradx needed to find it (target < 100) and where it was.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import torch

import gradx

SEED = 0
BAD_ELEMENT = 123_457


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """(median, min) seconds of ``repeat`` calls after one warm-up call, and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), result


def tanh_layer(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(SEED + n)
    w = torch.randn(n, n, generator=generator, dtype=torch.float64) / n**0.5
    x = torch.randn(n, generator=generator, dtype=torch.float64)
    return w, x


def buggy_layer(w: torch.Tensor, bug: str) -> type[torch.autograd.Function]:
    """tanh(W x) as an autograd.Function whose backward has ``bug`` (or none)."""
    n = w.shape[0]
    i0, j0 = n // 3, (2 * n) // 3

    class Layer(torch.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return torch.tanh(w @ x)

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(output)

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            upstream = grad * (1 - y**2)
            result = w.T @ upstream
            if bug == "scaled":
                result = result * 1.01
            elif bug == "one entry":
                # d y[i0] / d x[j0] is 1% off, every other entry is right.
                bump = torch.zeros_like(result)
                bump[j0] = 0.01 * w[i0, j0] * upstream[i0]
                result = result + bump
            elif bug == "one sign":
                flip = torch.ones_like(result)
                flip[j0] = -1.0
                result = result * flip
            return result

    return Layer


def verdict_gradx(fn, x, **options) -> str:
    return "pass" if gradx.check(fn, x, **options).ok else "FAIL"


def verdict_gradcheck(fn, x, **options) -> str:
    ok = torch.autograd.gradcheck(
        fn, (x.clone().requires_grad_(),), raise_exception=False, **options
    )
    return "pass" if ok else "FAIL"


def part_one(repeat: int) -> None:
    print("Part 1: f(x) = tanh(W @ x), float64; seconds are median (min) of", repeat, "runs\n")
    header = (
        f"{'n':>5}  {'gradx auto':>18}  {'gradx proj.':>18}  {'gradcheck':>18}  "
        f"{'gc fast_mode':>18}  {'gc/auto':>8}  {'gc/proj':>8}  method of auto"
    )
    print(header)
    print("-" * len(header))
    for n in (10, 100, 1000):
        w, x = tanh_layer(n)

        def f(v, w=w):
            return torch.tanh(w @ v)

        auto_med, auto_min, report = timed(lambda f=f, x=x: gradx.check(f, x), repeat)
        proj_med, proj_min, _ = timed(
            lambda f=f, x=x: gradx.check(f, x, method="projections"), repeat
        )
        gc_med, gc_min, _ = timed(
            lambda f=f, x=x: torch.autograd.gradcheck(f, (x.clone().requires_grad_(),)), repeat
        )
        fast_med, fast_min, _ = timed(
            lambda f=f, x=x: torch.autograd.gradcheck(
                f, (x.clone().requires_grad_(),), fast_mode=True
            ),
            repeat,
        )
        method = report.targets[0].checks[0].method
        print(
            f"{n:>5}  {auto_med:>8.4f} ({auto_min:.4f})  {proj_med:>8.4f} ({proj_min:.4f})  "
            f"{gc_med:>8.4f} ({gc_min:.4f})  {fast_med:>8.4f} ({fast_min:.4f})  "
            f"{gc_med / auto_med:>7.1f}×  {gc_med / proj_med:>7.1f}×  {method}"
        )
    print("\nVerdicts (pass / FAIL) on the correct function and on injected backward bugs:\n")
    header = f"{'n':>5}  {'bug':<10}  {'gradx auto':>10}  {'gradx proj':>10}  {'gradcheck':>10}  {'gc fast':>8}"
    print(header)
    print("-" * len(header))
    for n in (10, 100, 1000):
        w, x = tanh_layer(n)
        for bug in ("none", "scaled", "one entry", "one sign"):
            layer = buggy_layer(w, bug)
            row = (
                verdict_gradx(layer, x),
                verdict_gradx(layer, x, method="projections"),
                verdict_gradcheck(layer.apply, x),
                verdict_gradcheck(layer.apply, x, fast_mode=True),
            )
            expected = "pass" if bug == "none" else "FAIL"
            marks = "" if row[:3] == (expected,) * 3 else "   <-- disagree"
            print(
                f"{n:>5}  {bug:<10}  {row[0]:>10}  {row[1]:>10}  {row[2]:>10}  {row[3]:>8}{marks}"
            )


def part_two() -> None:
    print("\nPart 2: one wrong element among 10^6 inputs (sin, backward wrong at one index)\n")

    class OneBad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.sin(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            result = grad * torch.cos(x)
            result[BAD_ELEMENT] = result[BAD_ELEMENT] * 1.01
            return result

    x = torch.randn(10**6, generator=torch.Generator().manual_seed(SEED), dtype=torch.float64)
    start = time.perf_counter()
    report = gradx.check(OneBad, x)
    seconds = time.perf_counter() - start
    check = report.targets[0].checks[0]
    entry = check.mismatches[0] if check.mismatches else None
    print(f"  method:                      {check.method}")
    print(f"  verdict:                     {check.verdict.value}")
    print(
        f"  located:                     {entry.output}{list(entry.output_index)} / "
        f"{entry.input}{list(entry.input_index)} (wrong element: {BAD_ELEMENT})"
        if entry
        else "  located: nothing"
    )
    print(f"  evaluations in all:          {check.evaluations}")
    print(f"  evaluations to localise:     {check.localisation_evaluations}   (target < 100)")
    print(f"  wall time:                   {seconds:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-million", action="store_true", help="skip part 2")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: on a shared machine, waiting for a descheduled "
        "second thread makes small operations take milliseconds)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}\n"
    )
    part_one(args.repeat)
    if not args.skip_million:
        part_two()


if __name__ == "__main__":
    main()
