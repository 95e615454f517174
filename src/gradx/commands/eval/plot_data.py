"""What ``gradx eval --plot/--save`` draws: f and its derivatives sampled at plot resolution.

The table keeps its own rows; a plot needs far more points than 13, so the range is evaluated a
second time, densely, through the same core (``PreparedEvaluation``), and the rows become plain
frozen series here. The dense grid refines the table's grid by a whole factor, so every table
point (and any kink it lands on) is also a plot point. The renderers (``eval_plot_terminal``,
``eval_plot_file``) only draw what this module hands them.

Sampling: a range of n table points becomes ``(n - 1) * k + 1`` plot points with the smallest k
giving at least ``PLOT_POINTS``; a range of ``PLOT_POINTS`` to ``MAX_PLOT_POINTS`` points is
plotted as it is; a longer one is resampled to ``MAX_PLOT_POINTS``. Two ranges (a surface) use
``SURFACE_POINTS`` per axis and a ``QUIVER_POINTS`` subgrid for the gradient arrows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from gradx.commands.eval.model import (
    Curve,
    EvalHeader,
    LinePlot,
    Marks,
    Panel,
    Plot,
    PlotNote,
    PointResult,
    Status,
    SurfacePlot,
    key_label,
)
from gradx.commands.eval.prepared import EvaluationOptions, PreparedEvaluation
from gradx.errors import GradxError
from gradx.text import superscript

PLOT_POINTS = 400  # about two braille dots per column of a wide terminal
MAX_PLOT_POINTS = 4001
SURFACE_POINTS = 81  # per axis: enough for smooth contours, cheap to evaluate
QUIVER_POINTS = 17  # per axis: arrows stay apart
SAVE_SUFFIXES = (".png", ".svg", ".pdf")
MAX_LISTED = 6  # special points described under a plot


def check_plot_options(
    *, terminal: bool, save: Path | None, json_out: bool, overlay: bool = False
) -> None:
    """Refuse (GradxError, exit 2) plot options that can never work, before torch is imported.

    Only the options are looked at (no expression, no points), so a wrong ``--save out.jpg``
    is refused at once rather than after seconds of imports.
    """
    if overlay and not terminal and save is None:
        raise GradxError("--overlay draws a plot: add --plot (terminal) or --save FILE.png")
    if terminal and json_out:
        raise GradxError(
            "--plot draws on the terminal and cannot share stdout with --json; "
            "use --save FILE.png with --json"
        )
    if save is not None:
        if save.suffix.lower() not in SAVE_SUFFIXES:
            raise GradxError(
                f"--save {save}: the file name must end in {', '.join(SAVE_SUFFIXES)} "
                "(the format follows the suffix)"
            )
        from importlib.util import find_spec

        if find_spec("matplotlib") is None:
            raise GradxError(
                "--save needs matplotlib, which is not installed: pip install 'gradx[plot]'"
            )
        from gradx.atomic_file import check_writable

        check_writable(save)


def check_plot_request(
    prepared: PreparedEvaluation, *, terminal: bool, overlay: bool = False
) -> None:
    """Refuse (GradxError, exit 2) a plot that cannot be drawn over the request's points, before
    anything is evaluated (the options alone were checked by ``check_plot_options``)."""
    grid = prepared.grid
    if overlay and len(grid.axes) == 2:
        raise GradxError(
            "--overlay draws curves over one variable; two ranges give a heatmap without it"
        )
    what = "--plot" if terminal else "--save"
    if not grid.axes:
        raise GradxError(
            f"{what} needs a --range to draw over (--at gives single points): "
            f"for example --range {grid.variables[0]}=-5:5"
        )
    if len(grid.axes) > 2:
        names = ", ".join(a.name for a in grid.axes)
        raise GradxError(
            f"{what} draws one or two ranged variables, not {len(grid.axes)} ({names}); "
            "fix the others with --at, as in --at z=1"
        )
    if len(grid.axes) == 2 and terminal:
        a, b = grid.axes
        raise GradxError(
            f"--plot draws one variable on the terminal; for {a.name} and {b.name} use "
            f"--save FILE.png (a heatmap with the gradient field), or fix one with --at {b.name}=1"
        )


def collect_plot(
    request: EvaluationOptions, prepared: PreparedEvaluation, *, overlay: bool = False
) -> Plot:
    """Evaluate the range densely (every order up to ``--order``) and build the series.

    One panel for f and one per derivative order; with ``overlay`` a single panel with f and
    every derivative on the same axes, as d2l draws f and f'.
    """
    grid = prepared.grid
    if len(grid.axes) == 2:
        return _surface(request, prepared)
    axis = grid.axes[0]
    count = plot_point_count(axis.count)
    dense = _dense_request(request, grid.fixed, ((axis.name, axis.start, axis.stop),), count)
    # one pass gives every order: the report has f', f'', ... up to --order
    report = PreparedEvaluation(dense).run(keep_all_rows=True)
    rows = report.rows
    xs = tuple(_coordinate(row, axis.name) for row in rows)
    values = tuple(_finite(row.value) for row in rows)
    header = report.header

    value_panel = Panel(
        title=f"f({', '.join(header.variables)}) = {header.expression}",
        ylabel="f",
        curves=(Curve("f", "value", (), xs, values, "line"),),
        marks=_value_marks(report, xs, values),
        ylim=_ylim(values),
    )
    panels = [value_panel]
    for order in range(1, request.order + 1):
        panels.append(_derivative_panel(report, xs, order))
    if overlay:
        panels = [_overlay(panels)]
    gaps = _gaps(xs, values)
    notes = _notes(rows)
    return LinePlot(
        expression=request.expression,
        variable=axis.name,
        fixed=grid.fixed,
        start=axis.start,
        stop=axis.stop,
        points=len(xs),
        panels=tuple(panels),
        domain_gaps=gaps,
        notes=tuple(notes[:MAX_LISTED]),
        hidden_notes=max(0, len(notes) - MAX_LISTED),
    )


def _overlay(panels: Sequence[Panel]) -> Panel:
    """f and its derivatives in one panel: every curve, every mark, limits that fit them all."""
    curves = tuple(c for panel in panels for c in panel.curves)
    merged: dict[str, list[tuple[float, float]]] = {}
    for panel in panels:
        for marks in panel.marks:
            merged.setdefault(marks.kind, []).extend(zip(marks.x, marks.y, strict=True))
    limits = [panel.ylim for panel in panels if panel.ylim is not None]
    return Panel(
        title="; ".join(panel.title for panel in panels),
        ylabel=", ".join(panel.ylabel for panel in panels),
        curves=curves,
        marks=tuple(
            Marks(kind, tuple(p[0] for p in found), tuple(p[1] for p in found))
            for kind, found in merged.items()
        ),
        ylim=(min(lo for lo, _ in limits), max(hi for _, hi in limits)) if limits else None,
    )


def plot_point_count(table_points: int) -> int:
    """How many points the plot samples for a range the table shows with ``table_points``."""
    if table_points >= PLOT_POINTS:
        return min(table_points, MAX_PLOT_POINTS)
    intervals = table_points - 1
    return intervals * math.ceil(PLOT_POINTS / intervals) + 1


def _dense_request(
    request: EvaluationOptions,
    fixed: Sequence[tuple[str, float]],
    axes: Sequence[tuple[str, float, float]],
    count: int,
) -> EvaluationOptions:
    # repr() round-trips floats exactly, so the dense grid keeps the table's end points.
    ranges = tuple(f"{name}={start!r}:{stop!r}" for name, start, stop in axes)
    at = (",".join(f"{name}={value!r}" for name, value in fixed),) if fixed else ()
    return replace(request, at=at, ranges=ranges, steps=count)


def _surface(request: EvaluationOptions, prepared: PreparedEvaluation) -> SurfacePlot:
    grid = prepared.grid
    ax, ay = grid.axes
    dense = _dense_request(
        replace(request, order=1, wrt=(ax.name, ay.name)),
        grid.fixed,
        ((ax.name, ax.start, ax.stop), (ay.name, ay.start, ay.stop)),
        SURFACE_POINTS,
    )
    report = PreparedEvaluation(dense).run(keep_all_rows=True)
    # The grid's first axis is the slow one: rows come as (x0, y0), (x0, y1), ...
    n = SURFACE_POINTS
    rows = report.rows
    xs = tuple(_coordinate(rows[i * n], ax.name) for i in range(n))
    ys = tuple(_coordinate(rows[j], ay.name) for j in range(n))
    values = tuple(tuple(_finite(rows[i * n + j].value) for i in range(n)) for j in range(n))
    stride = (n - 1) // (QUIVER_POINTS - 1)
    arrow_x, arrow_y, arrow_u, arrow_v = [], [], [], []
    for i in range(0, n, stride):
        for j in range(0, n, stride):
            row = rows[i * n + j]
            grads = {d.key: d.autograd for d in row.derivatives}
            arrow_x.append(xs[i])
            arrow_y.append(ys[j])
            arrow_u.append(_finite(grads[(ax.name,)]))
            arrow_v.append(_finite(grads[(ay.name,)]))
    return SurfacePlot(
        expression=request.expression,
        x_name=ax.name,
        y_name=ay.name,
        fixed=grid.fixed,
        xs=xs,
        ys=ys,
        values=values,
        arrow_x=tuple(arrow_x),
        arrow_y=tuple(arrow_y),
        arrow_u=tuple(arrow_u),
        arrow_v=tuple(arrow_v),
        points=len(rows),
    )


def _derivative_panel(report, xs: tuple[float, ...], order: int) -> Panel:
    header: EvalHeader = report.header
    rows = report.rows
    variables = header.variables
    curves: list[Curve] = []
    kinks: list[tuple[float, float]] = []
    mismatches: list[tuple[float, float]] = []
    inconclusive: list[tuple[float, float]] = []
    wanted = [k for k, key in enumerate(header.keys) if len(key) == order]
    keys = tuple(header.keys[k] for k in wanted)
    formulas = tuple(header.derivatives[k] for k in wanted)
    for k in wanted:
        key = header.keys[k]
        label = key_label(key, variables)
        derivs = [row.derivatives[k] for row in rows]
        auto = tuple(_finite(d.autograd) for d in derivs)
        curves.append(Curve(label, "autograd", key, xs, auto, "line"))
        for source in ("symbolic", "numeric"):
            ys = tuple(
                _finite(getattr(d, source)) if _differs(getattr(d, source), d, header) else math.nan
                for d in derivs
            )
            if any(math.isfinite(y) for y in ys):
                curves.append(Curve(label, source, key, xs, ys, "points"))
        for x, d, a in zip(xs, derivs, auto, strict=True):
            where = (x, a if math.isfinite(a) else _reference_value(d))
            if not math.isfinite(where[1]):
                continue
            if d.status is Status.NONDIFFERENTIABLE:
                kinks.append(where)
            elif d.status is Status.MISMATCH:
                mismatches.append(where)
            elif d.status is Status.INCONCLUSIVE:
                inconclusive.append(where)
    marks = tuple(
        Marks(kind, tuple(p[0] for p in found), tuple(p[1] for p in found))
        for kind, found in (
            ("kink", kinks),
            ("mismatch", mismatches),
            ("inconclusive", inconclusive),
        )
        if found
    )
    ys_all = [y for c in curves for y in c.y]
    one = len(variables) == 1
    name = key_label(keys[0], variables) if one else f"order-{order} derivatives"
    text = "; ".join(
        f"{key_label(key, variables)} = {formula}"
        for key, formula in zip(keys, formulas, strict=True)
    )
    title = f"{name}({variables[0]}) = {formulas[0]}" if one else text
    return Panel(
        title=title,
        ylabel=name if one else f"d{superscript(order) if order > 1 else ''}f",
        curves=tuple(curves),
        marks=marks,
        ylim=_ylim(ys_all),
    )


def _value_marks(report, xs: tuple[float, ...], values: tuple[float, ...]) -> tuple[Marks, ...]:
    """Kinks and points without a derivative, placed on the curve of f."""
    kinks: dict[int, None] = {}
    singular: dict[int, None] = {}
    for i, row in enumerate(report.rows):
        if not math.isfinite(values[i]):
            continue
        if any(d.status is Status.NONDIFFERENTIABLE for d in row.derivatives):
            kinks[i] = None
        elif row.status is Status.DOMAIN:
            singular[i] = None
    marks = []
    for kind, found in (("kink", kinks), ("no derivative", singular)):
        if found:
            order = sorted(found)
            marks.append(Marks(kind, tuple(xs[i] for i in order), tuple(values[i] for i in order)))
    return tuple(marks)


def _differs(reference: float | None, d, header: EvalHeader) -> bool:
    """Whether a reference value is worth drawing beside autograd at this point."""
    if reference is None or not math.isfinite(reference) or d.status is Status.OK:
        return False
    if not math.isfinite(d.autograd):
        return True
    return abs(d.autograd - reference) > header.atol + header.rtol * abs(reference)


def _reference_value(d) -> float:
    for value in (d.symbolic, d.numeric):
        if value is not None and math.isfinite(value):
            return value
    return math.nan


def _notes(rows: Sequence[PointResult]) -> list[PlotNote]:
    """One entry per special point (first ones first), with the core's own notes."""
    seen: dict[tuple, PlotNote] = {}
    for row in sorted(rows, key=lambda r: r.index):
        if row.status is Status.OK or not math.isfinite(row.value):
            continue  # points without a value are listed as domain gaps
        seen.setdefault(row.at, PlotNote(row.at, row.status, row.note))
    return list(seen.values())


def _gaps(xs: Sequence[float], values: Sequence[float]) -> tuple[tuple[float, float], ...]:
    gaps: list[tuple[float, float]] = []
    start = None
    for i, value in enumerate(values):
        if not math.isfinite(value):
            if start is None:
                start = i
        elif start is not None:
            gaps.append((xs[start], xs[i - 1]))
            start = None
    if start is not None:
        gaps.append((xs[start], xs[-1]))
    return tuple(gaps)


def _ylim(values: Sequence[float]) -> tuple[float, float] | None:
    """Limits that show the bulk of the curve: poles (tan, 1/x) would flatten everything else.

    ``values`` are in x order, NaN where there is no value. Next to such a gap (a pole, as in
    1/x at 0) the curve is cut to its central 90 %; elsewhere only extremes far outside the
    central 96 % are cut. Curves leaving the limits are clipped by the renderers.
    """
    finite = sorted(v for v in values if math.isfinite(v))
    if not finite:
        return None
    lo, hi = finite[0], finite[-1]
    if len(finite) >= 20:
        pole = _has_gap(values)
        cut = len(finite) // (20 if pole else 50)
        p_lo, p_hi = finite[cut], finite[-1 - cut]
        spread = p_hi - p_lo
        # Only trim when the extremes are far outside the central values.
        if spread > 0 and (hi - lo) > (3 if pole else 10) * spread:
            margin = (0.1 if pole else 0.5) * spread
            lo, hi = max(lo, p_lo - margin), min(hi, p_hi + margin)
    if hi == lo:
        pad = max(abs(hi) * 0.1, 1.0)
        return lo - pad, hi + pad
    pad = 0.05 * (hi - lo)
    return lo - pad, hi + pad


def _has_gap(values: Sequence[float]) -> bool:
    """Whether the curve stops somewhere inside the range (a value missing between values)."""
    seen_value = seen_gap = False
    for v in values:
        if math.isfinite(v):
            if seen_gap and seen_value:
                return True
            seen_value = True
        elif seen_value:
            seen_gap = True
    return False


def _coordinate(row: PointResult, name: str) -> float:
    return dict(row.at)[name]


def _finite(value: float | None) -> float:
    return value if value is not None and math.isfinite(value) else math.nan
