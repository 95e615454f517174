"""gradx.check against torch.autograd.gradcheck over torch's OpInfo database.

Run it with the project's Python (needs the ``expecttest`` package for the import of op_db):

    python bench/opinfo_check.py [--samples 1] [--ops sin,sort,...] [--dtypes float64,complex128]
                                 [--no-bugs] [--limit SECONDS]

For every CPU OpInfo op that supports autograd, in float64 and complex128 (when the op's
backward supports that dtype), it takes the first K sample inputs (``op.sample_inputs`` under
``torch.manual_seed(0)``), makes a function of the tensors that require grad (the other
arguments are fixed, the output goes through the sample's ``output_process_fn_grad``) and runs

  * ``gradx.check(fn, *tensors)``                      (default settings),
  * ``torch.autograd.gradcheck(fn, tensors)``          (default settings),

timing each call (time.perf_counter around the call only; sample creation is not counted).
A result "passes" when gradx's verdict is pass or nondifferentiable and when gradcheck returns
True; an exception raised by gradcheck (e.g. "not differentiable") counts as not passing.

Then, unless ``--no-bugs``, it injects backward bugs into the first sample of each op and runs
gradx, gradcheck and gradcheck(fast_mode=True) on each:

  * scaled      -- the gradient of one element of the first input (the one with the largest
                   gradient of the sum of the outputs, so that the bug can show) is multiplied
                   by 1.01;
  * negated     -- the whole gradient of the first input is negated;
  * transposed  -- for one input and one output with the same number of elements n > 1 and a
                   non-symmetric Jacobian: backward computes J·g instead of Jᵀ·g;
  * grad_output -- backward ignores grad_output (uses ones in its place).

The bugs are identity ``autograd.Function``s wrapped around the inputs (scaled, negated,
transposed: wrapped around the output) so they are invisible in the forward values. A bug is
"caught" by a tool when it does not pass. A bug no tool can see (e.g. the element's column of
the Jacobian is zero) counts as caught by none.

``--gradcheck-log LOG`` reuses gradcheck's verdicts and times on the correct functions from an
earlier run's output (gradcheck does not change when gradx does), so a rerun after a change to
gradx takes minutes instead of most of an hour; combine it with ``--no-bugs``.

Prints: agreement table per dtype, each disagreement with its reason (gradx's cause, note or
error, gradcheck's message), bugs caught per tool, total times. Every op runs under a time
limit (``--limit``, default 120 s per tool call, via SIGALRM): a call past it counts as an error.
"""

from __future__ import annotations

import argparse
import math
import re
import signal
import sys
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field

import torch
from torch.utils._pytree import tree_flatten, tree_unflatten

import gradx
from gradx.commands.check.model import Verdict


class Timeout(BaseException):
    """A tool call ran past --limit (a BaseException so no tool swallows it)."""


def _alarm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise Timeout()


@dataclass
class Outcome:
    """One tool on one sample."""

    passed: bool
    seconds: float
    reason: str = ""


@dataclass
class Row:
    """One (op, dtype, sample) with both tools' outcomes."""

    op: str
    dtype: str
    sample: int
    gradx: Outcome
    gradcheck: Outcome


@dataclass
class Totals:
    rows: list[Row] = field(default_factory=list)
    bugs: list[tuple[str, str, str, bool, bool, bool]] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)


def first_line(text: str, limit: int = 160) -> str:
    """The first non-empty line of ``text``, shortened."""
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""


def make_function(op, sample):
    """(fn, tensors): fn(*tensors) runs the op on the sample with the grad tensors replaced."""
    leaves, spec = tree_flatten((sample.input, sample.args, sample.kwargs))
    positions = [
        k for k, leaf in enumerate(leaves) if isinstance(leaf, torch.Tensor) and leaf.requires_grad
    ]
    tensors = [leaves[k].detach() for k in positions]
    variant = op.get_op()
    process = sample.output_process_fn_grad

    def fn(*xs):
        values = list(leaves)
        for k, x in zip(positions, xs, strict=True):
            values[k] = x
        inp, args, kwargs = tree_unflatten(values, spec)
        return process(op.gradcheck_wrapper(variant, inp, *args, **kwargs))

    return fn, tensors


def run_gradx(fn, tensors, limit: float) -> Outcome:
    """gradx.check with default settings; passes on pass/nondifferentiable."""
    signal.alarm(int(limit))
    start = time.perf_counter()
    try:
        report = gradx.check(fn, *tensors, name="op")
    except Timeout:
        return Outcome(False, time.perf_counter() - start, f"timeout after {limit:g} s")
    except Exception as exc:  # noqa: BLE001 - record any failure of the tool itself
        return Outcome(False, time.perf_counter() - start, f"raised {first_line(repr(exc))}")
    finally:
        signal.alarm(0)
    seconds = time.perf_counter() - start
    target = report.targets[0]
    passed = target.verdict in (Verdict.PASS, Verdict.NONDIFFERENTIABLE)
    reason = target.verdict.value
    if target.error is not None:
        reason += f": {target.error.type} {first_line(target.error.message)}".rstrip()
    for check in target.checks:
        if check.cause is not None:
            reason += f": {first_line(check.cause.text, 100)}"
        if check.verdict is Verdict.FAIL and check.worst is not None:
            w = check.worst
            reason += (
                f" [worst {w.output}{list(w.output_index)} / {w.input}{list(w.input_index)}:"
                f" autograd {w.autograd:.6g} numeric {w.numeric:.6g}]"
            )
        if check.verdict is Verdict.NONDIFFERENTIABLE:
            reason += f" ({check.kink_count} entries without a derivative)"
    return Outcome(passed, seconds, reason)


def run_gradcheck(fn, tensors, limit: float, *, fast: bool = False) -> Outcome:
    """torch.autograd.gradcheck with default settings (fast_mode on request)."""
    inputs = tuple(t.detach().clone().requires_grad_(True) for t in tensors)
    signal.alarm(int(limit))
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ok = torch.autograd.gradcheck(fn, inputs, fast_mode=fast)
        return Outcome(bool(ok), time.perf_counter() - start, "pass")
    except Timeout:
        return Outcome(False, time.perf_counter() - start, f"timeout after {limit:g} s")
    except Exception as exc:  # noqa: BLE001 - a gradcheck failure is an exception
        return Outcome(False, time.perf_counter() - start, first_line(str(exc)) or repr(exc))
    finally:
        signal.alarm(0)


# ---------------------------------------------------------------------------- injected bugs


def _scale(element: int):
    """Identity whose backward scales the gradient of one (flat) element by 1.01."""

    class Scale(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.view_as(x)

        @staticmethod
        def backward(ctx, g):
            g = g.clone().contiguous()
            g.view(-1)[element] *= 1.01
            return g

    return Scale.apply


def _sensitive_element(fn, x: torch.Tensor, rest) -> int:
    """The element of x whose gradient (of the sum of all outputs) is largest: one that shows."""
    leaf = x.detach().clone().requires_grad_(True)
    out = fn(leaf, *rest)
    parts = [out] if isinstance(out, torch.Tensor) else list(tree_flatten(out)[0])
    total = sum(
        (t.real if t.is_complex() else t).sum() + (t.imag.sum() if t.is_complex() else 0)
        for t in parts
        if isinstance(t, torch.Tensor) and t.requires_grad
    )
    if not isinstance(total, torch.Tensor):
        return 0
    (grad,) = torch.autograd.grad(total, leaf, allow_unused=True)
    return 0 if grad is None else int(grad.abs().reshape(-1).argmax())


class _Negate(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return -g


class _IgnoreGradOutput(torch.autograd.Function):
    @staticmethod
    def forward(ctx, y):
        return y.view_as(y)

    @staticmethod
    def backward(ctx, g):
        return torch.ones_like(g)


def _transposed(fn, x0: torch.Tensor):
    """fn with a backward that multiplies by J instead of Jᵀ (J taken at x0), or None."""
    y0 = fn(x0)
    if not isinstance(y0, torch.Tensor) or y0.numel() != x0.numel() or x0.numel() < 2:
        return None
    if y0.dtype != x0.dtype:
        return None
    jac = torch.autograd.functional.jacobian(fn, x0).reshape(y0.numel(), x0.numel())
    if torch.allclose(jac, jac.mT.conj(), rtol=1e-2, atol=1e-3):
        return None  # symmetric: a transposed backward is the same backward

    class Transposed(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            with torch.no_grad():
                return fn(x).clone()

        @staticmethod
        def backward(ctx, g):
            # correct: (gᴴ J)ᴴ = Jᴴ g; bug: J g (the Jacobian transposed)
            return (jac.conj() @ g.reshape(-1)).reshape(x0.shape)

    return Transposed.apply


def buggy_functions(fn, tensors):
    """(name, buggy fn) pairs for the sample (none when the first input is empty)."""
    if tensors[0].numel() == 0:
        return []
    try:
        element = _sensitive_element(fn, tensors[0], tensors[1:])
    except Exception:  # noqa: BLE001 - no gradient to look at: scale element 0
        element = 0
    scale = _scale(element)
    out = [
        ("scaled", lambda *xs: fn(scale(xs[0]), *xs[1:])),
        ("negated", lambda *xs: fn(_Negate.apply(xs[0]), *xs[1:])),
    ]

    def ignore(*xs):
        y = fn(*xs)
        if isinstance(y, torch.Tensor):
            return _IgnoreGradOutput.apply(y)
        return type(y)(
            _IgnoreGradOutput.apply(t)
            if isinstance(t, torch.Tensor) and (t.is_floating_point() or t.is_complex())
            else t
            for t in y
        )

    out.append(("grad_output", ignore))
    if len(tensors) == 1:
        try:
            transposed = _transposed(fn, tensors[0])
        except Exception:  # noqa: BLE001 - no Jacobian, no transposition bug
            transposed = None
        if transposed is not None:
            out.append(("transposed", transposed))
    return out


# ---------------------------------------------------------------------------- main loop


LOG_LINE = re.compile(
    r"\] (?P<op>\S+) (?P<dtype>\S+) #(?P<k>\d+): gradx (?:pass|FAIL) [0-9.]+s, "
    r"gradcheck (?P<verdict>pass|FAIL) (?P<seconds>[0-9.]+)s(?: \| .* \| (?P<reason>.*))?"
)


def gradcheck_results(path: str) -> dict[tuple[str, str, int], Outcome]:
    """gradcheck's outcomes on the correct functions, read back from an earlier run's log."""
    found = {}
    with open(path, encoding="utf-8") as log:
        for line in log:
            match = LOG_LINE.search(line)
            if match:
                passed = match["verdict"] == "pass"
                reason = "pass" if passed else (match["reason"] or "fail (see the earlier log)")
                key = (match["op"], match["dtype"], int(match["k"]))
                found[key] = Outcome(passed, float(match["seconds"]), reason)
    return found


def sample_list(op, dtype, count: int):
    torch.manual_seed(0)
    samples = []
    for sample in op.sample_inputs("cpu", dtype, requires_grad=True):
        samples.append(sample)
        if len(samples) >= count:
            break
    return samples


def run(args) -> Totals:
    from torch.testing._internal.common_methods_invocations import op_db

    wanted = set(args.ops.split(",")) if args.ops else None
    dtypes = [getattr(torch, d) for d in args.dtypes.split(",")]
    totals = Totals()
    earlier = gradcheck_results(args.gradcheck_log) if args.gradcheck_log else None
    ops = [o for o in op_db if o.supports_autograd]
    if wanted:
        ops = [o for o in ops if o.name in wanted or f"{o.name}.{o.variant_test_name}" in wanted]
    for number, op in enumerate(ops):
        label = op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")
        for dtype in dtypes:
            dname = str(dtype).replace("torch.", "")
            if dtype not in op.supported_backward_dtypes("cpu"):
                totals.skipped[dname] += 1
                continue
            try:
                samples = sample_list(op, dtype, args.samples)
            except Exception as exc:  # noqa: BLE001 - a broken sample generator: skip the op
                print(f"  {label} {dname}: no samples ({first_line(str(exc))})", flush=True)
                continue
            for k, sample in enumerate(samples):
                fn, tensors = make_function(op, sample)
                if not tensors:
                    continue
                gx = run_gradx(fn, tensors, args.limit)
                if earlier is not None and (label, dname, k) in earlier:
                    gc = earlier[(label, dname, k)]
                else:
                    gc = run_gradcheck(fn, tensors, args.limit)
                totals.rows.append(Row(label, dname, k, gx, gc))
                mark = "  " if gx.passed == gc.passed else "!!"
                print(
                    f"{mark} [{number + 1}/{len(ops)}] {label} {dname} #{k}: "
                    f"gradx {'pass' if gx.passed else 'FAIL'} {gx.seconds:.2f}s, "
                    f"gradcheck {'pass' if gc.passed else 'FAIL'} {gc.seconds:.2f}s"
                    + ("" if gx.passed == gc.passed else f" | {gx.reason} | {gc.reason}"),
                    flush=True,
                )
                if args.no_bugs or k > 0 or not gc.passed:
                    continue
                for bug, buggy in buggy_functions(fn, tensors):
                    caught = (
                        not run_gradx(buggy, tensors, args.limit).passed,
                        not run_gradcheck(buggy, tensors, args.limit).passed,
                        not run_gradcheck(buggy, tensors, args.limit, fast=True).passed,
                    )
                    totals.bugs.append((label, dname, bug, *caught))
                    marks = ", ".join(
                        f"{tool} {'caught' if c else 'missed'}"
                        for tool, c in zip(("gradx", "gradcheck", "fast_mode"), caught, strict=True)
                    )
                    mark = "!!" if caught[1] and not caught[0] else "  "
                    print(f"{mark} {label} {dname} bug {bug}: {marks}", flush=True)
    return totals


def summary(totals: Totals) -> None:
    print("\n== agreement (per sample) ==")
    print(f"{'dtype':<11}{'both pass':>10}{'both fail':>10}{'gradx only fails':>18}"
          f"{'gradcheck only fails':>22}{'total':>7}")  # fmt: skip
    for dtype in sorted({r.dtype for r in totals.rows}):
        rows = [r for r in totals.rows if r.dtype == dtype]
        c = Counter((r.gradx.passed, r.gradcheck.passed) for r in rows)
        print(
            f"{dtype:<11}{c[(True, True)]:>10}{c[(False, False)]:>10}{c[(False, True)]:>18}"
            f"{c[(True, False)]:>22}{len(rows):>7}"
        )
    print("\n== disagreements ==")
    for r in totals.rows:
        if r.gradx.passed != r.gradcheck.passed:
            print(f"{r.op} {r.dtype} #{r.sample}: gradx {r.gradx.reason} | gradcheck "
                  f"{r.gradcheck.reason}")  # fmt: skip
    print("\n== both fail ==")
    for r in totals.rows:
        if not r.gradx.passed and not r.gradcheck.passed:
            print(f"{r.op} {r.dtype} #{r.sample}: gradx {r.gradx.reason} | gradcheck "
                  f"{r.gradcheck.reason}")  # fmt: skip
    if totals.bugs:
        print("\n== injected bugs caught ==")
        print(f"{'bug':<13}{'injected':>9}{'gradx':>7}{'gradcheck':>11}{'fast_mode':>11}"
              f"{'gc not gradx':>14}")  # fmt: skip
        for bug in ("scaled", "negated", "transposed", "grad_output"):
            items = [b for b in totals.bugs if b[2] == bug]
            if not items:
                continue
            print(
                f"{bug:<13}{len(items):>9}{sum(b[3] for b in items):>7}"
                f"{sum(b[4] for b in items):>11}{sum(b[5] for b in items):>11}"
                f"{sum(b[4] and not b[3] for b in items):>14}"
            )
        for b in totals.bugs:
            if b[4] and not b[3]:
                print(f"  missed by gradx, caught by gradcheck: {b[0]} {b[1]} {b[2]}")
    print("\n== total time of the correct-gradient calls ==")
    for dtype in sorted({r.dtype for r in totals.rows}):
        rows = [r for r in totals.rows if r.dtype == dtype]
        gx = sum(r.gradx.seconds for r in rows)
        gc = sum(r.gradcheck.seconds for r in rows)
        ratio = gc / gx if gx > 0 else math.nan
        print(f"{dtype:<11} gradx {gx:8.1f} s   gradcheck {gc:8.1f} s   ratio {ratio:5.2f}×")
    if totals.skipped:
        print(f"\nops without a backward in a dtype: {dict(totals.skipped)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1, help="first K samples per op")
    parser.add_argument("--ops", default="", help="comma-separated op names (default: all)")
    parser.add_argument("--dtypes", default="float64,complex128")
    parser.add_argument("--no-bugs", action="store_true", help="skip the injected bugs")
    parser.add_argument("--limit", type=float, default=120.0, help="seconds per tool call")
    parser.add_argument(
        "--gradcheck-log",
        default="",
        help="take gradcheck's results (and times) on the correct functions from this earlier "
        "log of the script instead of running gradcheck again (gradcheck does not change)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    signal.signal(signal.SIGALRM, _alarm)
    start = time.perf_counter()
    try:
        totals = run(args)
    except KeyboardInterrupt:
        traceback.print_exc()
        return 130
    summary(totals)
    print(f"\nwall time {time.perf_counter() - start:.0f} s, torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
