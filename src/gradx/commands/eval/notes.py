"""The note that explains one derivative's verdict at one point, as a ``Phrase`` (English until
a renderer gives it a language; ``zh/eval.toml`` has the Chinese).

Fed plain per-point values (:class:`DerivativeFacts`: floats, flags and ready-made phrases about
the expression), so the wording lives apart from the tensors that decided the verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from gradx.commands.eval.special_points import JUMP, SMOOTH
from gradx.commands.eval.verdicts import Reason
from gradx.text import short_number as _g
from gradx.translations import N_, Phrase, phrase


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
    value_cause: Phrase | None = None  # why f is not finite
    derivative_cause: Phrase | None = None  # why the derivative is singular
    where_nan: Phrase | None = None  # the untaken where() branch a NaN gradient leaks from


def note(f: DerivativeFacts) -> Phrase | None:
    """Why this derivative got its status here (None for a plain ok)."""
    return _WRITERS[f.reason](f)


def _numeric_unreliable_note(f: DerivativeFacts) -> Phrase:
    return phrase(
        "autograd agrees with symbolic; numeric's {numeric} ± {error} contradicts both: finite "
        "differences are unreliable here, so this point is judged against symbolic alone",
        numeric=_g(f.numeric),
        error=_g(f.numeric_error),
    )


def _no_symbolic_note(f: DerivativeFacts) -> Phrase:
    if f.symbolic is None:
        return phrase(
            "no symbolic check (the formula was not computed); judged against numeric alone"
        )
    return phrase("sympy's formula is undefined here (nan); judged against numeric alone")


def _value_note(f: DerivativeFacts) -> Phrase:
    """f itself is not finite: a domain error, or an overflow of the dtype."""
    if f.reason is Reason.OVERFLOW and f.value64 is not None and math.isfinite(f.value64):
        return phrase(
            "f overflows {dtype} here (its float64 value is {value})",
            dtype=f.dtype,
            value=_g(f.value64),
        )
    if f.value_cause is not None:
        return f.value_cause
    return phrase("f is {value} here", value=_g(f.value))


def _derivative_domain_note(f: DerivativeFacts) -> Phrase:
    what = phrase(
        "the derivative is {autograd} here (symbolic: {symbolic})",
        autograd=_g(f.autograd),
        symbolic=_g(f.symbolic),
    )
    if f.derivative_cause:
        return phrase("{what}: {cause}", what=what, cause=f.derivative_cause)
    if f.symbolic is not None and math.isinf(f.symbolic):
        return phrase(
            "{what}: infinite, or too large for {dtype} (overflow)", what=what, dtype=f.dtype
        )
    return what


def _one_nonfinite_note(f: DerivativeFacts) -> Phrase:
    """Autograd and a reference disagree on whether the derivative is finite."""
    a, s, n, e = f.autograd, f.symbolic, f.numeric, f.numeric_error
    if not math.isfinite(a):
        ref = (
            phrase("symbolic {value}", value=_g(s))
            if s is not None and math.isfinite(s)
            else phrase("numeric {value}", value=_g(n))
        )
        return phrase(
            "autograd gives {autograd} but the derivative is finite here ({reference}){where_nan}",
            autograd=_g(a),
            reference=ref,
            where_nan=f.where_nan or "",
        )
    if s is not None and math.isnan(s):
        return phrase(
            "autograd gives {autograd}; sympy's formula is undefined here and finite "
            "differences do not settle ({numeric} ± {error})",
            autograd=_g(a),
            numeric=_g(n),
            error=_g(e),
        )
    return phrase(
        "autograd gives {autograd} but symbolic gives {symbolic}", autograd=_g(a), symbolic=_g(s)
    )


def _differ_note(f: DerivativeFacts) -> Phrase:
    """Everything finite, autograd disagrees with a reference that counts."""
    a, s, n, e = f.autograd, f.symbolic, f.numeric, f.numeric_error
    num_bad = not f.num_ok
    if s is not None and math.isfinite(s) and not f.sym_ok:
        refs_agree = abs(n - s) <= 2 * e + 1e-8 * max(1.0, abs(s))
        if num_bad and refs_agree:
            if f.breakpoint is not None:
                return phrase(
                    "autograd gives {autograd}, but symbolic and numeric agree on {symbolic}: "
                    "{breakpoint} is at its breakpoint, where torch's convention does not give "
                    "the derivative of the whole expression",
                    autograd=_g(a),
                    symbolic=_g(s),
                    breakpoint=f.breakpoint,
                )
            return phrase(
                "autograd gives {autograd}, but symbolic and numeric agree on {symbolic}",
                autograd=_g(a),
                symbolic=_g(s),
            )
        diff = abs(a - s)
        relative = _g(diff / max(abs(s), 1e-300))
        if not num_bad:
            return phrase(
                "autograd differs from symbolic by {difference} (relative {relative}); numeric "
                "agrees with autograd within its error estimate {error}",
                difference=_g(diff),
                relative=relative,
                error=_g(e),
            )
        return phrase(
            "autograd differs from symbolic by {difference} (relative {relative}); numeric "
            "gives {numeric} ± {error}",
            difference=_g(diff),
            relative=relative,
            numeric=_g(n),
            error=_g(e),
        )
    if s is None or not math.isfinite(s):
        return phrase(
            "autograd gives {autograd}, but numeric gives {numeric} ± {error} (no symbolic "
            "value to compare with: {symbolic})",
            autograd=_g(a),
            numeric=_g(n),
            error=_g(e),
            symbolic=_g(s),
        )
    return phrase(
        "autograd differs from numeric by {difference}, beyond its error estimate {error}; "
        "symbolic gives {symbolic}",
        difference=_g(abs(a - n)),
        error=_g(e),
        symbolic=_g(s),
    )


def _inconclusive_note(f: DerivativeFacts) -> Phrase:
    """No reference can judge autograd here: say which are missing and why."""
    a, s, n, e = f.autograd, f.symbolic, f.numeric, f.numeric_error
    sym = (
        phrase("no symbolic value")
        if s is None
        else phrase("sympy's formula is undefined here (nan)")
    )
    if math.isfinite(n) and math.isfinite(e):
        num = phrase(
            "finite differences are too uncertain ({numeric} ± {error})", numeric=_g(n), error=_g(e)
        )
    else:
        num = phrase("finite differences give no value")
    if math.isfinite(a):
        end = phrase("nothing confirms or contradicts autograd's {autograd}", autograd=_g(a))
    else:
        end = phrase(
            "autograd gives {autograd}, and whether the derivative exists here is unknown",
            autograd=_g(a),
        )
    return phrase(
        "not checked: {symbolic} and {numeric}; {verdict}", symbolic=sym, numeric=num, verdict=end
    )


# "2nd derivative": the suffix is English grammar, so each form is a template of its own.
_ORDINALS = {1: N_("{n}st"), 2: N_("{n}nd"), 3: N_("{n}rd")}


def _ordinal(n: int) -> Phrase:
    """``2nd`` (``2 阶`` in Chinese)."""
    suffix = N_("{n}th") if 10 <= n % 100 <= 20 else _ORDINALS.get(n % 10, N_("{n}th"))
    return phrase(suffix, n=n)


def _kink_note(f: DerivativeFacts) -> Phrase:
    left, right = _snap(f.left, f.right)
    what: Phrase
    if f.kind == JUMP:
        what = phrase(
            "f jumps here (left limit {left}, right limit {right})", left=_g(left), right=_g(right)
        )
    elif f.level == 1:
        what = phrase(
            "kink: left derivative {left}, right derivative {right}", left=_g(left), right=_g(right)
        )
    else:
        what = phrase(
            "derivative {order} has a kink here (left {ordinal} derivative {left}, right {right})",
            order=f.level - 1,
            ordinal=_ordinal(f.level),
            left=_g(left),
            right=_g(right),
        )
    at = (
        phrase(" ({breakpoint} at its breakpoint)", breakpoint=f.breakpoint)
        if f.breakpoint is not None
        else ""
    )
    sym = (
        phrase("; sympy gives {symbolic}", symbolic=_g(f.symbolic))
        if f.symbolic is not None
        else ""
    )
    a = _g(f.autograd)
    if math.isfinite(f.autograd):
        return phrase(
            "{what}{at}; torch autograd returns {autograd} here by convention{sympy}",
            what=what,
            at=at,
            autograd=a,
            sympy=sym,
        )
    if f.kind == JUMP:
        return phrase(
            "{what}{at}; torch autograd returns {autograd} here{sympy}",
            what=what,
            at=at,
            autograd=a,
            sympy=sym,
        )
    return phrase(
        "{what}{at}; torch autograd returns {autograd}, which is not a usable gradient{sympy}"
        "{where_nan}",
        what=what,
        at=at,
        autograd=a,
        sympy=sym,
        where_nan=f.where_nan or "",
    )


_WRITERS: dict[Reason, Callable[[DerivativeFacts], Phrase | None]] = {
    Reason.NONE: lambda f: None,
    Reason.VALUE_DOMAIN: _value_note,
    Reason.OVERFLOW: _value_note,
    Reason.KINK: _kink_note,
    Reason.KINK_NAN: _kink_note,
    Reason.DERIV_DOMAIN: _derivative_domain_note,
    Reason.ONE_NONFINITE: _one_nonfinite_note,
    Reason.DIFFER: _differ_note,
    Reason.NO_NUMERIC: lambda f: phrase(
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
