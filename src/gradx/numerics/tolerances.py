"""The tolerance table: every tolerance gradx uses, per dtype, and the one ``--rtol/--atol`` merge."""

from __future__ import annotations

from dataclasses import dataclass, replace

from gradx.numerics.settings import DType, InvalidChoice


@dataclass(frozen=True)
class Tolerance:
    """How close autograd must be to a reference.

    ``gradx eval``: autograd agrees with symbolic when ``|a - s| <= atol + rtol * |s|``; with
    numeric when ``|a - n| <= 2 * error_estimate + fd_atol + fd_rtol * |n|``. ``fd_target`` is
    the relative accuracy the finite differences try to reach before they stop shrinking their
    step. ``gradx check`` has no symbolic reference: a Jacobian entry may differ from the finite
    difference by ``atol + rtol * |numeric|`` (and by twice its error estimate), so its rows
    repeat rtol/atol as fd_rtol/fd_atol.
    """

    rtol: float
    atol: float
    fd_rtol: float
    fd_atol: float
    fd_target: float

    def merged(self, rtol: float | None = None, atol: float | None = None) -> Tolerance:
        """These tolerances with the user's ``--rtol``/``--atol`` applied to both references.

        The finite-difference bar never drops below its default (it is limited by the
        differences' own accuracy), unless the user asks for exactly zero.
        """
        tol = self
        if rtol is not None:
            tol = replace(tol, rtol=rtol, fd_rtol=max(rtol, tol.fd_rtol) if rtol > 0 else 0.0)
        if atol is not None:
            tol = replace(tol, atol=atol, fd_atol=max(atol, tol.fd_atol) if atol > 0 else 0.0)
        return tol


@dataclass(frozen=True)
class DTypeTolerances:
    """One row of the table: what each command tolerates in one dtype."""

    eval: Tolerance  # gradx eval: autograd against symbolic and numeric values
    check: Tolerance  # gradx check / gradx.check: Jacobian entries against finite differences
    repeat_rtol: float  # gradx check: two calls with the same input must agree this closely


TOLERANCES: dict[DType, DTypeTolerances] = {
    DType.FLOAT64: DTypeTolerances(
        eval=Tolerance(rtol=1e-9, atol=1e-12, fd_rtol=1e-8, fd_atol=1e-10, fd_target=1e-8),
        check=Tolerance(rtol=1e-6, atol=1e-8, fd_rtol=1e-6, fd_atol=1e-8, fd_target=1e-8),
        repeat_rtol=1e-9,
    ),
    DType.FLOAT32: DTypeTolerances(
        eval=Tolerance(rtol=1e-5, atol=1e-6, fd_rtol=1e-3, fd_atol=1e-4, fd_target=1e-4),
        check=Tolerance(rtol=1e-3, atol=1e-5, fd_rtol=1e-3, fd_atol=1e-5, fd_target=1e-4),
        repeat_rtol=1e-4,
    ),
}


def _row(dtype: str) -> DTypeTolerances:
    chosen = DType.parse(dtype)
    if chosen not in TOLERANCES:
        raise InvalidChoice(
            f"--dtype {chosen}: finite differences are noise in {chosen}; use float64 or "
            "float32 (gradx check --against compares low-precision kernels with a reference)"
        )
    return TOLERANCES[chosen]


def tolerance_for(dtype: str, rtol: float | None = None, atol: float | None = None) -> Tolerance:
    """``gradx eval``'s tolerances for ``dtype`` with the user's overrides merged in."""
    return _row(dtype).eval.merged(rtol, atol)


def check_tolerance_for(
    dtype: str, rtol: float | None = None, atol: float | None = None
) -> Tolerance:
    """``gradx check``'s tolerances for ``dtype`` with the user's overrides merged in."""
    return _row(dtype).check.merged(rtol, atol)


# The check rows as (rtol, atol) by dtype name: a view of TOLERANCES for tables keyed by dtypes
# that are not compute dtypes (a float16 value on a checked function's path).
CHECK_TOLERANCES: dict[str, tuple[float, float]] = {
    str(dtype): (row.check.rtol, row.check.atol) for dtype, row in TOLERANCES.items()
}

# gradx check --against: the (rtol, atol) added to the error budget per kernel dtype. The budget
# comes from the reference's own error in that dtype; in float64 that error is zero, so a kernel
# that sums in another order needs a little room (docs/check.md, "Against a reference").
AGAINST_TOLERANCES: dict[str, tuple[float, float]] = {
    "float16": (0.0, 0.0),
    "bfloat16": (0.0, 0.0),
    "float32": (0.0, 0.0),
    "float64": (1e-9, 0.0),
}

# A check runs in float64 or float32, but a value on the function's path may have less
# precision (a float16 output): the tolerances then follow the lowest precision on the path.
PATH_TOLERANCES: dict[str, tuple[float, float]] = {
    **CHECK_TOLERANCES,
    "float16": (1e-2, 1e-3),
    "bfloat16": (5e-2, 1e-2),
}
