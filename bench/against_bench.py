"""How long ``gradx.check(kernel, x, against=reference)`` takes for a 1000-input function.

Plain script (not a test): ``python bench/against_bench.py``. Imports (torch, gradx) are
excluded; the first call (lazy imports of gradx's modules, torch's warm-up) is reported apart,
then the median and the fastest of 5 calls.
"""

from __future__ import annotations

import statistics
import time

import torch

import gradx


class Kernel(torch.autograd.Function):
    """tanh-GELU computed in float32 inside, rounded to the input's dtype (a fused kernel)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xf = x.float()
        return (0.5 * xf * (1 + torch.tanh(0.7978845608 * (xf + 0.044715 * xf**3)))).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xf = x.float()
        t = torch.tanh(0.7978845608 * (xf + 0.044715 * xf**3))
        d = 0.5 * (1 + t) + 0.5 * xf * (1 - t * t) * 0.7978845608 * (1 + 0.134145 * xf * xf)
        return (grad.float() * d).to(x.dtype)


def reference(x):
    """The same function in plain PyTorch."""
    return 0.5 * x * (1 + torch.tanh(0.7978845608 * (x + 0.044715 * x**3)))


def bench(shape: tuple[int, ...], dtype: torch.dtype, repeats: int = 5) -> None:
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0)).to(dtype)
    start = time.perf_counter()
    report = gradx.check(Kernel, x, against=reference)
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        report = gradx.check(Kernel, x, against=reference)
        times.append(time.perf_counter() - start)
    check = report.targets[0].checks[0]
    print(
        f"{x.numel():>6} inputs {str(dtype):>15}: {report.verdict.value}, {check.method}, "
        f"first call {first * 1e3:.0f} ms, then median {statistics.median(times) * 1e3:.0f} ms "
        f"(min {min(times) * 1e3:.0f} ms)"
    )


if __name__ == "__main__":
    # One torch thread: on a shared machine a second thread makes small operations wait.
    torch.set_num_threads(1)
    for dtype in (torch.bfloat16, torch.float32):
        bench((1000,), dtype)
        bench((10, 100), dtype)
        bench((16, 16), dtype)
