"""``gradx eval``'s points, chunk by chunk: ``PreparedEvaluation`` (a request parsed, its points
and symbolic derivatives ready) runs every stage in one batched pass per chunk and keeps the rows
that will be shown.

Points are processed in chunks so that memory stays bounded however many are asked for; each
chunk is one batched pass (no Python loop over points). Only the rows that will be shown (or
streamed to a sink for ``--json``/``--csv``/``--all``) become Python objects.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import Field
from typing import Any, ClassVar, Protocol

from gradx.commands.eval.model import EvalReport, EvalSummary, PointResult, Status
from gradx.commands.eval.points import build_grid, split_top_level
from gradx.errors import GradxError

# Points per chunk. 2^15-2^16 measured as fast as 2^18 at 10^6 points with one thread (the
# temporaries stay in cache) and the working set is a quarter: 10^7 points peak near 0.35 GiB.
CHUNK_SIZE = 1 << 16
MAX_DERIVATIVES = 200
TABLE_LIMIT = 25  # up to this many points, every row is shown
NOT_OK_SHOWN = 12  # beyond it: the first non-ok rows...
WORST_SHOWN = 3  # ...the worst errors, and the first and last rows

RowSink = Callable[[Sequence[PointResult]], None]


class EvaluationOptions(Protocol):
    """What a ``PreparedEvaluation`` reads of its request (``pipeline.EvalRequest``).

    A frozen dataclass: the plot derives its dense requests with ``dataclasses.replace``.
    """

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    @property
    def expression(self) -> str: ...
    @property
    def at(self) -> tuple[str, ...]: ...
    @property
    def ranges(self) -> tuple[str, ...]: ...
    @property
    def steps(self) -> int | None: ...
    @property
    def order(self) -> int: ...
    @property
    def wrt(self) -> tuple[str, ...]: ...
    @property
    def dtype(self) -> str: ...
    @property
    def rtol(self) -> float | None: ...
    @property
    def atol(self) -> float | None: ...


class PreparedEvaluation:
    """A validated request, ready to run: parsed, with its points and symbolic derivatives."""

    def __init__(self, request: EvaluationOptions) -> None:
        from gradx.expression.parser import parse_expression

        parsed = parse_expression(request.expression)
        wrt = _resolve_wrt(request.wrt, parsed.variables)
        # every derivative of order 1 to K: f' and f'', the gradient and the Hessian
        count = sum(math.comb(len(wrt) + k - 1, k) for k in range(1, request.order + 1))
        if count > MAX_DERIVATIVES:
            raise GradxError(
                f"--order {request.order} with {len(wrt)} variables means {count:,} derivatives; "
                f"the limit is {MAX_DERIVATIVES}: choose some with --wrt"
            )
        self.grid = build_grid(parsed.variables, request.at, request.ranges, request.steps)

        with _imports_without_gc():
            from gradx.commands.eval.chunk import PointwiseEvaluator  # imports torch and sympy

        self.evaluator = PointwiseEvaluator(
            parsed, wrt, request.order, request.dtype, request.rtol, request.atol
        )
        self.header = self.evaluator.header()

    @property
    def size(self) -> int:
        """The number of points."""
        return self.grid.size

    def run(
        self,
        *,
        keep_all_rows: bool = False,
        on_rows: RowSink | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> EvalReport:
        """Evaluate every point, chunk by chunk, and judge each one.

        ``keep_all_rows`` keeps every row in the report (otherwise: all rows for short runs,
        the interesting ones for long runs). ``on_rows`` receives every row, chunk by chunk,
        for streaming writers.
        """
        with _threads_for_load():
            return self._run(keep_all_rows, on_rows, chunk_size)

    def _run(self, keep_all_rows: bool, on_rows: RowSink | None, chunk_size: int) -> EvalReport:
        grid = self.grid
        keep_everything = keep_all_rows or grid.size <= TABLE_LIMIT
        selector = _RowSelector(keep_everything)
        tally = _Tally()
        for start in range(0, grid.size, chunk_size):
            stop = min(start + chunk_size, grid.size)
            first, last = start == 0, stop == grid.size
            block = self.evaluator.evaluate(grid.chunk(start, stop), offset=start)
            tally.add(block.status_counts(), block.worst())
            if keep_everything or on_rows is not None:
                rows = block.rows(range(stop - start))
            else:
                wanted = block.interesting(
                    NOT_OK_SHOWN - selector.not_ok_kept(), WORST_SHOWN, first=first, last=last
                )
                rows = block.rows(wanted)
            if on_rows is not None:
                on_rows(rows)
            selector.offer(rows, first=first, last=last)
        rows = selector.result()
        return EvalReport(self.header, tally.summary(grid.size), rows, grid.size - len(rows))


def evaluate_expression(
    request: EvaluationOptions,
    *,
    keep_all_rows: bool = False,
    on_rows: RowSink | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> EvalReport:
    """Evaluate f and its derivatives at every requested point and judge each point."""
    prepared = PreparedEvaluation(request)
    return prepared.run(keep_all_rows=keep_all_rows, on_rows=on_rows, chunk_size=chunk_size)


@contextmanager
def _imports_without_gc() -> Iterator[None]:
    """Import torch and sympy without cyclic garbage collection, then freeze what they made.

    Their imports create about a million objects; every full collection during and after them
    walks all of these (measured: 0.5 s of a 4 s one-point ``gradx eval``). Imported modules
    live until exit anyway, so ``gc.freeze`` moves them out of every later collection.
    """
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.freeze()


@contextmanager
def _threads_for_load() -> Iterator[None]:
    """One torch thread while the machine has no idle core; torch's own setting otherwise.

    Every element-wise op on a chunk is split across torch's threads and waits for the
    slowest; when other processes keep the cores busy, that thread waits for a CPU. Measured
    on a 2-core machine at load 8-10: 10^6 points took 8-26 s with two threads, 1.2 s with one.
    """
    import os

    import torch

    before = torch.get_num_threads()
    try:
        busy = os.getloadavg()[0] > max((os.cpu_count() or 1) - 1, 0.5)
    except OSError:  # no load average on this platform
        busy = False
    if busy and before > 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def _resolve_wrt(wrt: Sequence[str], variables: tuple[str, ...]) -> tuple[str, ...]:
    if not wrt:
        return variables
    names: list[str] = []
    for spec in wrt:
        for name in split_top_level(spec, ","):
            name = name.strip()
            if name not in variables:
                known = ", ".join(variables) or "none"
                raise GradxError(
                    f"--wrt {name!r} is not a variable of the expression (its variables: {known})"
                )
            if name not in names:
                names.append(name)
    return tuple(v for v in variables if v in names)


class _Tally:
    """Counts and the worst error, accumulated over chunks."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(Status, 0)
        self.worst: PointResult | None = None
        self.worst_key: tuple[str, ...] | None = None

    def add(
        self, counts: dict[Status, int], worst: tuple[PointResult, tuple[str, ...]] | None
    ) -> None:
        for status, n in counts.items():
            self.counts[status] += n
        if worst is not None:
            row, key = worst
            if self.worst is None or (row.error or 0.0) > (self.worst.error or 0.0):
                self.worst, self.worst_key = row, key

    def summary(self, points: int) -> EvalSummary:
        worst = self.worst
        return EvalSummary(
            points=points,
            ok=self.counts[Status.OK],
            nondifferentiable=self.counts[Status.NONDIFFERENTIABLE],
            domain=self.counts[Status.DOMAIN],
            mismatch=self.counts[Status.MISMATCH],
            inconclusive=self.counts[Status.INCONCLUSIVE],
            worst_error=worst.error if worst else None,
            worst_at=worst.at if worst else None,
            worst_key=self.worst_key if worst else None,
        )


class _RowSelector:
    """Keeps every row, or for long runs: the first non-ok rows, the worst ones, first and last."""

    def __init__(self, keep_everything: bool) -> None:
        self.keep_everything = keep_everything
        self.rows: dict[int, PointResult] = {}
        self.not_ok: list[PointResult] = []
        self.worst: list[tuple[float, int, PointResult]] = []
        self.ends: list[PointResult] = []

    def not_ok_kept(self) -> int:
        return len(self.not_ok)

    def offer(self, rows: Sequence[PointResult], *, first: bool, last: bool) -> None:
        if self.keep_everything:
            for row in rows:
                self.rows[row.index] = row
            return
        if first and rows:
            self.ends.append(min(rows, key=lambda r: r.index))
        if last and rows:
            self.ends.append(max(rows, key=lambda r: r.index))
        for row in rows:
            if row.status is not Status.OK and len(self.not_ok) < NOT_OK_SHOWN:
                self.not_ok.append(row)
            if row.error is not None and math.isfinite(row.error) and row.error > 0:
                item = (row.error, -row.index, row)
                if len(self.worst) < WORST_SHOWN:
                    heapq.heappush(self.worst, item)
                elif item[:2] > self.worst[0][:2]:
                    heapq.heapreplace(self.worst, item)

    def result(self) -> tuple[PointResult, ...]:
        if self.keep_everything:
            return tuple(self.rows[i] for i in sorted(self.rows))
        chosen = {r.index: r for r in (*self.ends, *self.not_ok, *(w[2] for w in self.worst))}
        return tuple(chosen[i] for i in sorted(chosen))


__all__ = ["EvaluationOptions", "PreparedEvaluation", "evaluate_expression"]
