"""Plain frozen dataclasses passed from the core to the renderers (floats and strings, no tensors).

Sentences are ``Phrase`` values (English template and parameters): a renderer says them in the
reader's language with ``.in_lang(lang)``; ``str()`` is English, as JSON and CSV write them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gradx.errors import ExitCode
from gradx.text import superscript
from gradx.translations import Phrase


class Status(StrEnum):
    """Verdict for one derivative at one point (and, for a point, the worst of its derivatives).

    Declared from the least to the most alarming: a point shows the last one of its derivatives'.
    """

    OK = "ok"
    NONDIFFERENTIABLE = "nondifferentiable"
    DOMAIN = "domain"
    INCONCLUSIVE = "inconclusive"  # no reliable reference to compare with; none contradicts
    MISMATCH = "mismatch"


@dataclass(frozen=True)
class DerivativeResult:
    """One derivative (``key``, e.g. ``('x',)`` or ``('x', 'y')``) at one point."""

    key: tuple[str, ...]
    autograd: float
    symbolic: float | None  # None when sympy's derivative could not be evaluated
    numeric: float | None  # None where there is no derivative (kinks, jumps, domain errors)
    numeric_error: float | None
    error: float | None  # None for domain, nondifferentiable and inconclusive verdicts
    status: Status
    note: Phrase | None  # why it got its status (None for a plain ok)


@dataclass(frozen=True)
class PointResult:
    """f and its derivatives at one point."""

    index: int
    at: tuple[tuple[str, float], ...]
    value: float
    derivatives: tuple[DerivativeResult, ...]
    status: Status
    error: float | None
    note: Phrase | None  # its derivatives' notes, each cause said once (None: all plain ok)


@dataclass(frozen=True)
class EvalSummary:
    """Counts per status and the worst error with where it happened."""

    points: int
    ok: int
    nondifferentiable: int
    domain: int
    mismatch: int
    inconclusive: int
    worst_error: float | None
    worst_at: tuple[tuple[str, float], ...] | None
    worst_key: tuple[str, ...] | None


@dataclass(frozen=True)
class EvalHeader:
    """What was evaluated: the expression, its derivatives (as text) and the settings."""

    expression: str
    variables: tuple[str, ...]
    wrt: tuple[str, ...]
    order: int
    dtype: str
    keys: tuple[tuple[str, ...], ...]
    expression_text: str  # sympy's one-line form of f
    expression_pretty: str  # sympy's 2-D form of f
    derivatives: tuple[str, ...]  # one-line form of each derivative, in the order of keys
    derivatives_pretty: tuple[str, ...]
    rtol: float
    atol: float


@dataclass(frozen=True)
class EvalReport:
    """The result of ``gradx eval``: header, summary and the rows selected for display."""

    header: EvalHeader
    summary: EvalSummary
    rows: tuple[PointResult, ...]
    hidden_rows: int  # rows not in ``rows`` (long ranges show only the interesting ones)
    plot: Plot | None = None  # --plot/--save: the range sampled again at plot resolution

    @property
    def exit_ok(self) -> bool:
        """What the exit status follows (see ``ExitCode.for_outcome``): no point is a mismatch."""
        return self.summary.mismatch == 0

    @property
    def exit_complete(self) -> bool:
        """Every point could be checked: none is inconclusive (else exit 1)."""
        return self.summary.inconclusive == 0

    @property
    def exit_code(self) -> ExitCode:
        """FAILED for a mismatch; else FAILED too when a point could not be checked; else OK."""
        return ExitCode.for_outcome(self.exit_ok, complete=self.exit_complete)


def key_label(key: tuple[str, ...], variables: tuple[str, ...]) -> str:
    """``f'``, ``f''``, ``f⁽⁴⁾`` for one variable; ``∂f/∂x``, ``∂²f/∂x∂y``, ``∂²f/∂x²`` for several."""
    if len(variables) == 1:
        return "f" + "'" * len(key) if len(key) <= 3 else f"f⁽{superscript(len(key))}⁾"
    counts: dict[str, int] = {}
    for name in key:
        counts[name] = counts.get(name, 0) + 1
    below = "".join(f"∂{v}" + (superscript(c) if c > 1 else "") for v, c in counts.items())
    top = "∂" + (superscript(len(key)) if len(key) > 1 else "")
    return f"{top}f/{below}"


def key_text(key: tuple[str, ...]) -> str:
    """The JSON key of a derivative: ``"x"``, ``"x,x"``, ``"x,y"``."""
    return ",".join(key)


# -- plots (sampled by plot_data.py, drawn by render/eval_plot_*) ------------------------------


@dataclass(frozen=True)
class Curve:
    """One series of a panel: ``y`` is NaN where it has no value (drawn as a gap).

    ``source`` is ``value``, ``autograd``, ``symbolic`` or ``numeric``; reference curves are
    drawn as ``points`` and only where they differ from autograd.
    """

    label: str  # f, f', ∂f/∂x: the renderer adds the source's name to derivatives
    source: str
    key: tuple[str, ...]
    x: tuple[float, ...]
    y: tuple[float, ...]
    style: str  # "line" or "points"


@dataclass(frozen=True)
class Marks:
    """Special points of one kind (``kink``, ``mismatch``, ``inconclusive``, ``no derivative``)
    on a panel."""

    kind: str
    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class PlotNote:
    """A special point listed under a plot: where, its status and why."""

    at: tuple[tuple[str, float], ...]
    status: Status
    note: Phrase | None


@dataclass(frozen=True)
class Panel:
    """One plot area: f, or the derivatives of one order, over the plotted variable."""

    title: str
    ylabel: str
    curves: tuple[Curve, ...]
    marks: tuple[Marks, ...]
    ylim: tuple[float, float] | None  # None: nothing finite to draw


@dataclass(frozen=True)
class LinePlot:
    """f and its derivatives along one variable (others fixed by ``--at``)."""

    expression: str
    variable: str
    fixed: tuple[tuple[str, float], ...]
    start: float
    stop: float
    points: int
    panels: tuple[Panel, ...]
    domain_gaps: tuple[tuple[float, float], ...]  # x intervals where f has no value
    notes: tuple[PlotNote, ...]  # the special points, described
    hidden_notes: int


@dataclass(frozen=True)
class SurfacePlot:
    """f over two variables on a grid, and the gradient on a coarser grid (for arrows)."""

    expression: str
    x_name: str
    y_name: str
    fixed: tuple[tuple[str, float], ...]
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    values: tuple[tuple[float, ...], ...]  # values[j][i] = f(xs[i], ys[j]); NaN: no value
    arrow_x: tuple[float, ...]
    arrow_y: tuple[float, ...]
    arrow_u: tuple[float, ...]  # ∂f/∂x at the arrow points (NaN where undefined)
    arrow_v: tuple[float, ...]
    points: int


Plot = LinePlot | SurfacePlot


# ---------------------------------------------------------------- gradx eval --quotient


@dataclass(frozen=True)
class QuotientRow:
    """The difference quotients at one step h, and their distance from autograd."""

    h: float
    forward: float  # (f(x + h) - f(x)) / h
    central: float  # (f(x + h) - f(x - h)) / (2h)
    forward_error: float  # |forward - autograd|
    central_error: float


@dataclass(frozen=True)
class QuotientReport:
    """``gradx eval EXPR --at X --quotient``: the limit of the difference quotient, step by step.

    ``best_forward``/``best_central`` index the row with the smallest error: at larger h the
    truncation error (about |f''|h/2, |f'''|h²/6) dominates, at smaller h the rounding error
    (about eps·|f|/h). ``theory_forward``/``theory_central`` are the steps where these estimates
    cross (None where f'' or f''' is 0 or not finite).
    """

    expression: str
    variable: str
    at: tuple[tuple[str, float], ...]
    dtype: str
    epsilon: float
    value: float
    autograd: float  # f' by autograd in float64: the reference
    rows: tuple[QuotientRow, ...]
    best_forward: int
    best_central: int
    theory_forward: float | None
    theory_central: float | None

    @property
    def exit_ok(self) -> bool:
        """Always True: the table demonstrates, it checks nothing."""
        return True
