"""Plain frozen dataclasses passed from the checker core to the renderers (stdlib only).

The worker process pickles these to the parent, which never imports torch, so this module must
stay free of torch imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from gradx.errors import ExitCode
from gradx.numerics.settings import DType, Method
from gradx.numerics.tolerances import TOLERANCES
from gradx.translations import Phrase


class Verdict(StrEnum):
    """Outcome of one check, of one target, or of a whole run (worst first in ``SEVERITY``)."""

    PASS = "pass"
    NONDIFFERENTIABLE = "nondifferentiable"
    FAIL = "fail"
    ERROR = "error"
    TIMEOUT = "timeout"


# Worst first: the verdict of a group is the first of these that any member has.
SEVERITY = (Verdict.TIMEOUT, Verdict.ERROR, Verdict.FAIL, Verdict.NONDIFFERENTIABLE, Verdict.PASS)


def worst_verdict(verdicts: list[Verdict] | tuple[Verdict, ...]) -> Verdict:
    """The most severe verdict of a group (PASS for an empty group)."""
    for verdict in SEVERITY:
        if verdict in verdicts:
            return verdict
    return Verdict.PASS


@dataclass(frozen=True)
class InputInfo:
    """One differentiated input of a check: an argument, a module parameter or a grad_output."""

    name: str
    shape: tuple[int, ...]
    kind: str  # "input", "parameter" or "grad_output"
    dtype: str = "float64"


@dataclass(frozen=True)
class JacobianEntry:
    """One Jacobian entry d output[output_index] / d input[input_index], both ways.

    ``numeric_error`` is the finite-difference error estimate; ``tolerance`` the user tolerance
    (``atol + rtol * |numeric|``). An entry is a mismatch when ``abs_error`` exceeds both.
    """

    output: str
    output_index: tuple[int, ...]
    input: str
    input_index: tuple[int, ...]
    autograd: float
    numeric: float
    abs_error: float
    rel_error: float
    tolerance: float
    numeric_error: float
    # --against: the reference run in the kernel's dtype (``autograd`` is then the kernel's value
    # and ``numeric`` the reference in float64).
    reference: float | None = None


@dataclass(frozen=True)
class Kink:
    """An input element where the one-sided numeric derivatives differ: no derivative exists.

    For a kink ``left`` and ``right`` are the one-sided slopes; for a jump (``jump``: the
    output jumps where the input crosses this value) they are the one-sided limits of the output.
    """

    output: str
    output_index: tuple[int, ...]
    input: str
    input_index: tuple[int, ...]
    left: float
    right: float
    autograd: float
    jump: bool = False


@dataclass(frozen=True)
class GradientCause:
    """A recognised reason for a failure, e.g. ``sign`` with a sentence that explains it (a
    ``Phrase``: the renderer gives it its language; ``str()`` is English)."""

    id: str  # sign, factor, transposed, ignores_grad_output, missing, nan, swapped
    text: Phrase


@dataclass(frozen=True)
class ErrorBudget:
    """--against: how much one compared tensor may differ from the float64 reference.

    An element passes when ``|kernel - float64| <= factor * (relative * |float64| + absolute)
    + atol + rtol * |float64|``; ``relative`` and ``absolute`` bound the error of the reference
    run in the kernel's dtype over the whole tensor (see docs/check.md).
    """

    quantity: str  # "out", "vjp 1 → x", "jacobian → x"
    elements: int
    kernel_error: float  # max |kernel - float64|
    reference_error: float  # max |reference in the kernel's dtype - float64|
    relative: float
    absolute: float
    factor: float
    mismatches: int


@dataclass(frozen=True)
class GradCheck:
    """One comparison of autograd with finite differences: one input sample, one order.

    ``method`` is ``"full jacobian"`` (every entry compared), ``"random directions"`` (every
    output along seeded directions, the flagged columns entry by entry) or ``"random
    projections"`` (``entries_checked`` then counts the entries covered by the directions or
    projections, and the entries shown come from localisation). ``evaluations`` counts calls of the function at one input
    point; ``localisation_evaluations`` the part of them spent finding wrong entries.
    """

    order: int
    sample: int
    verdict: Verdict
    method: str
    inputs: tuple[InputInfo, ...]
    output_shape: tuple[int, ...]
    entries_checked: int
    mismatch_count: int
    worst: JacobianEntry | None
    mismatches: tuple[JacobianEntry, ...] = ()
    cause: GradientCause | None = None
    kinks: tuple[Kink, ...] = ()
    kink_count: int = 0  # all entries without a derivative (``kinks`` holds the first ones)
    evaluations: int = 0
    localisation_evaluations: int = 0
    vectorised: bool = True
    fallback_reason: Phrase | None = None
    notes: tuple[Phrase, ...] = ()  # sentences without a language yet (``str()`` is English)
    at: tuple[tuple[str, str], ...] = ()  # short text of each input's value, for the report
    against: str | None = None  # --against: the reference, ``FILE::NAME`` or its name
    budgets: tuple[ErrorBudget, ...] = ()  # --against: one per compared tensor

    def __post_init__(self) -> None:
        # The invariant behind "a verdict is never kinder than the evidence": no PASS while
        # any measured discrepancy is outside what it is allowed.
        if self.verdict is Verdict.PASS:
            if self.mismatch_count:
                raise ValueError(f"a PASS with {self.mismatch_count} wrong entries")
            for entry in (self.worst, *self.mismatches):
                if entry is not None and not badness(entry) <= 1.0:
                    raise ValueError(
                        f"a PASS with a discrepancy outside its tolerance: {entry.output} / "
                        f"{entry.input}: |{entry.autograd!r} - {entry.numeric!r}| = "
                        f"{entry.abs_error!r} > {allowed(entry)!r}"
                    )


@dataclass(frozen=True)
class ErrorInfo:
    """What a target raised: one line, where in the user's file, and an explanation if known."""

    type: str
    message: str
    location: str | None = None  # "script.py:12", the user's own frame
    source: str | None = None  # that line of code
    title: str | None = None  # gradx explain catalog title, for autograd errors
    fix: str | None = None  # the catalog's one-line fix
    # (language, title, fix) in the catalog's other languages, for the report in that language
    explained_in: tuple[tuple[str, str, str], ...] = ()
    in_backward: bool = False  # raised by backward: ``location`` is the forward line of the op
    inputs_hint: Phrase | None = (
        None  # the target rejected inputs gradx drew: which, how to set them
    )


@dataclass(frozen=True)
class InputValues:
    """A differentiated input of the first draw, and the gradient autograd gives it (for small
    inputs only: ``gradx check --values``)."""

    name: str
    shape: tuple[int, ...]
    values: tuple[float, ...]  # flattened
    grad: tuple[float, ...] | None  # flattened; None when no gradient reaches it
    of_sum: bool  # the output has several elements: the gradient is that of output.sum()


@dataclass(frozen=True)
class TargetResult:
    """Everything checked for one target (a function, an autograd.Function or an nn.Module)."""

    name: str
    kind: str  # "function", "autograd.Function", "nn.Module"
    line: int | None
    verdict: Verdict
    checks: tuple[GradCheck, ...] = ()
    error: ErrorInfo | None = None
    timeout: float | None = None  # the limit that was hit, for TIMEOUT
    seconds: float = 0.0
    values: tuple[InputValues, ...] = ()  # inputs and gradients of the first draw, when small

    @property
    def inputs(self) -> tuple[InputInfo, ...]:
        """The differentiated inputs of the first-order check (empty when none ran)."""
        for check in self.checks:
            if check.order == 1:
                return check.inputs
        return ()

    @property
    def entries_checked(self) -> int:
        """Jacobian entries compared over all checks of this target."""
        return sum(c.entries_checked for c in self.checks)

    @property
    def worst(self) -> JacobianEntry | None:
        """The entry furthest outside its tolerance over all checks (the largest error when none is)."""
        best: JacobianEntry | None = None
        for check in self.checks:
            if check.worst is not None and (best is None or _badness(check.worst) > _badness(best)):
                best = check.worst
        return best


# The numeric error estimate may widen an entry's tolerance only up to what finite differences
# can vouch for: gradcheck's own bar (1e-5 + 1e-3·|numeric|) or ten times the tolerance.
TRUST_RTOL, TRUST_ATOL = 1e-3, 1e-5


def allowed(entry: JacobianEntry) -> float:
    """What an entry may differ by: its tolerance, widened by its (capped) numeric error."""
    cap = max(TRUST_ATOL + TRUST_RTOL * abs(entry.numeric), 10 * entry.tolerance)
    slack = min(2 * entry.numeric_error, cap)
    return max(entry.tolerance, slack) if slack == slack else entry.tolerance


def _badness(entry: JacobianEntry) -> float:
    limit = allowed(entry)
    if not limit > 0:
        return float("inf") if not entry.abs_error <= 0 else 0.0
    return entry.abs_error / limit if entry.abs_error == entry.abs_error else float("inf")


def badness(entry: JacobianEntry) -> float:
    """How far an entry is outside what is allowed: > 1 is a mismatch."""
    return _badness(entry)


@dataclass(frozen=True)
class TargetInfo:
    """What the parent process knows about a target before checking it (no live objects)."""

    name: str
    kind: str
    line: int | None
    params: tuple[str, ...]
    tensor_params: tuple[str, ...]


@dataclass(frozen=True)
class Settings:
    """The options a run used, echoed in the report."""

    dtype: str = DType.FLOAT64
    rtol: float = TOLERANCES[DType.FLOAT64].check.rtol
    atol: float = TOLERANCES[DType.FLOAT64].check.atol
    seed: int = 0
    samples: int = 1
    order: int = 1
    timeout: float | None = None
    method: str = Method.AUTO
    against: str | None = None  # ``FILE::NAME`` of the reference implementation
    device: str = "cpu"  # where the user's code runs: cpu, cuda, cuda:N or mps


@dataclass(frozen=True)
class CheckReport:
    """The result of ``gradx check`` or ``gradx.check``: one TargetResult per target."""

    targets: tuple[TargetResult, ...]
    settings: Settings = field(default_factory=Settings)
    file: str | None = None
    skipped: tuple[tuple[str, str], ...] = ()  # (name, why it is not a target)
    seconds: float = 0.0

    @property
    def verdict(self) -> Verdict:
        """The worst verdict over all targets."""
        return worst_verdict([t.verdict for t in self.targets])

    @property
    def ok(self) -> bool:
        """True when nothing failed, raised or timed out (nondifferentiable points are allowed)."""
        return self.verdict in (Verdict.PASS, Verdict.NONDIFFERENTIABLE)

    @property
    def exit_ok(self) -> bool:
        """What the exit status follows (see ``ExitCode.for_outcome``): the same as ``ok``."""
        return self.ok

    @property
    def exit_code(self) -> int:
        """0 when ok, 1 otherwise (2 is reserved for unusable input, raised before a report)."""
        return int(ExitCode.for_outcome(self.exit_ok))

    def count(self, verdict: Verdict) -> int:
        """How many targets have this verdict."""
        return sum(1 for t in self.targets if t.verdict is verdict)

    def __str__(self) -> str:
        from gradx.plain_text import plain_text  # the renderer, registered by gradx/__init__.py

        return plain_text(self)
