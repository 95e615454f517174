"""The English note that explains one derivative's verdict at one point.

Fed plain per-point values (:class:`DerivativeFacts`: floats, flags and ready-made phrases about
the expression), so the wording lives apart from the tensors that decided the verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from gradx.commands.eval.special_points import JUMP, SMOOTH
from gradx.commands.eval.verdicts import Reason
from gradx.text import ordinal
from gradx.text import short_number as _g


@dataclass(frozen=True)
class DerivativeFacts:
    """Everything a note may say about one derivative at one point."""

    reason: Reason
    autograd: float
    symbolic: float | None  # None: no symbolic value (not computed, or not evaluable)
    numeric: float
    numeric_error: float
    sym_ok: bool  # autograd within tolerance of symbolic
    num_ok: bool  # autograd within the numeric error estimate
    value: float  # f at the point, in the working dtype
    dtype: str = "float64"
    value64: float | None = None  # f in float64, when the working dtype overflowed
    kind: int = SMOOTH  # of the kink analysis
    level: int = 0  # derivative order of the kink (0: a jump of f)
    left: float = math.nan  # one-sided derivatives (limits of f for a jump)
    right: float = math.nan
    breakpoint: str | None = None  # source text of a non-smooth part sitting on its breakpoint
    value_cause: str | None = None  # why f is not finite (a sentence)
    derivative_cause: str | None = None  # why the derivative is singular (a sentence)
    where_nan: str = ""  # the untaken where() branch a NaN gradient leaks from ("; ..." or "")


def note(f: DerivativeFacts) -> str:
    """Why this derivative got its status here ("" for a plain ok)."""
    return _WRITERS[f.reason](f)


def _numeric_unreliable_note(f: DerivativeFacts) -> str:
    return (
        f"autograd agrees with symbolic; numeric's {_g(f.numeric)} ± {_g(f.numeric_error)} "
        "contradicts both: finite differences are unreliable here, so this point is judged "
        "against symbolic alone"
    )


def _no_symbolic_note(f: DerivativeFacts) -> str:
    if f.symbolic is None:
        return "no symbolic check (the formula was not computed); judged against numeric alone"
    return "sympy's formula is undefined here (nan); judged against numeric alone"


def _value_note(f: DerivativeFacts) -> str:
    """f itself is not finite: a domain error, or an overflow of the dtype."""
    if f.reason is Reason.OVERFLOW and f.value64 is not None and math.isfinite(f.value64):
        return f"f overflows {f.dtype} here (its float64 value is {_g(f.value64)})"
    if f.value_cause is not None:
        return f.value_cause
    return f"f is {_g(f.value)} here"


def _derivative_domain_note(f: DerivativeFacts) -> str:
    what = f"the derivative is {_g(f.autograd)} here (symbolic: {_g(f.symbolic)})"
    if f.derivative_cause:
        return f"{what}: {f.derivative_cause}"
    if f.symbolic is not None and math.isinf(f.symbolic):
        return f"{what}: infinite, or too large for {f.dtype} (overflow)"
    return what


def _one_nonfinite_note(f: DerivativeFacts) -> str:
    """Autograd and a reference disagree on whether the derivative is finite."""
    a, s, n, e = f.autograd, f.symbolic, f.numeric, f.numeric_error
    if not math.isfinite(a):
        ref = f"symbolic {_g(s)}" if s is not None and math.isfinite(s) else f"numeric {_g(n)}"
        return f"autograd gives {_g(a)} but the derivative is finite here ({ref}){f.where_nan}"
    if s is not None and math.isnan(s):
        return (
            f"autograd gives {_g(a)}; sympy's formula is undefined here and finite "
            f"differences do not settle ({_g(n)} ± {_g(e)})"
        )
    return f"autograd gives {_g(a)} but symbolic gives {_g(s)}"


def _differ_note(f: DerivativeFacts) -> str:
    """Everything finite, autograd disagrees with a reference that counts."""
    a, s, n, e = f.autograd, f.symbolic, f.numeric, f.numeric_error
    num_bad = not f.num_ok
    if s is not None and math.isfinite(s) and not f.sym_ok:
        refs_agree = abs(n - s) <= 2 * e + 1e-8 * max(1.0, abs(s))
        if num_bad and refs_agree:
            text = f"autograd gives {_g(a)}, but symbolic and numeric agree on {_g(s)}"
            if f.breakpoint is not None:
                text += (
                    f": {f.breakpoint} is at its breakpoint, where torch's convention does not "
                    "give the derivative of the whole expression"
                )
            return text
        diff = abs(a - s)
        text = (
            f"autograd differs from symbolic by {_g(diff)} "
            f"(relative {_g(diff / max(abs(s), 1e-300))})"
        )
        if not num_bad:
            text += f"; numeric agrees with autograd within its error estimate {_g(e)}"
        else:
            text += f"; numeric gives {_g(n)} ± {_g(e)}"
        return text
    if s is None or not math.isfinite(s):
        return (
            f"autograd gives {_g(a)}, but numeric gives {_g(n)} ± {_g(e)} "
            f"(no symbolic value to compare with: {_g(s)})"
        )
    return (
        f"autograd differs from numeric by {_g(abs(a - n))}, beyond its error estimate {_g(e)}; "
        f"symbolic gives {_g(s)}"
    )


def _inconclusive_note(f: DerivativeFacts) -> str:
    """No reference can judge autograd here: say which are missing and why."""
    a, s, n, e = f.autograd, f.symbolic, f.numeric, f.numeric_error
    sym = "no symbolic value" if s is None else "sympy's formula is undefined here (nan)"
    if math.isfinite(n) and math.isfinite(e):
        num = f"finite differences are too uncertain ({_g(n)} ± {_g(e)})"
    else:
        num = "finite differences give no value"
    if math.isfinite(a):
        end = f"nothing confirms or contradicts autograd's {_g(a)}"
    else:
        end = f"autograd gives {_g(a)}, and whether the derivative exists here is unknown"
    return f"not checked: {sym} and {num}; {end}"


def _kink_note(f: DerivativeFacts) -> str:
    left, right = _snap(f.left, f.right)
    if f.kind == JUMP:
        what = f"f jumps here (left limit {_g(left)}, right limit {_g(right)})"
    elif f.level == 1:
        what = f"kink: left derivative {_g(left)}, right derivative {_g(right)}"
    else:
        what = (
            f"derivative {f.level - 1} has a kink here (left {ordinal(f.level)} derivative "
            f"{_g(left)}, right {_g(right)})"
        )
    at = f" ({f.breakpoint} at its breakpoint)" if f.breakpoint is not None else ""
    sym = f"; sympy gives {_g(f.symbolic)}" if f.symbolic is not None else ""
    a = f.autograd
    if math.isfinite(a):
        return f"{what}{at}; torch autograd returns {_g(a)} here by convention{sym}"
    if f.kind == JUMP:
        return f"{what}{at}; torch autograd returns {_g(a)} here{sym}"
    return (
        f"{what}{at}; torch autograd returns {_g(a)}, which is not a usable gradient{sym}"
        f"{f.where_nan}"
    )


_WRITERS: dict[Reason, Callable[[DerivativeFacts], str]] = {
    Reason.NONE: lambda f: "",
    Reason.VALUE_DOMAIN: _value_note,
    Reason.OVERFLOW: _value_note,
    Reason.KINK: _kink_note,
    Reason.KINK_NAN: _kink_note,
    Reason.DERIV_DOMAIN: _derivative_domain_note,
    Reason.ONE_NONFINITE: _one_nonfinite_note,
    Reason.DIFFER: _differ_note,
    Reason.NO_NUMERIC: lambda f: (
        "no numeric check: f is undefined next to this point; judged against symbolic alone"
    ),
    Reason.NUMERIC_UNRELIABLE: _numeric_unreliable_note,
    Reason.NO_SYMBOLIC: _no_symbolic_note,
    Reason.NO_REFERENCE: _inconclusive_note,
}


def _snap(left: float, right: float) -> tuple[float, float]:
    """Round one-sided estimates to what finite differences can resolve (no ``-6.9e-09``)."""
    scale = max(
        1.0, abs(left) if math.isfinite(left) else 0.0, abs(right) if math.isfinite(right) else 0.0
    )

    def snap(v: float) -> float:
        if not math.isfinite(v):
            return v
        return 0.0 if abs(v) < 1e-6 * scale else float(f"{v:.6g}")

    return snap(left), snap(right)


__all__ = ["DerivativeFacts", "note"]
