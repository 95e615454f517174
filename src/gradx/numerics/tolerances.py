"""Tolerances per dtype, in one place, and the merge with ``--rtol`` / ``--atol``."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Tolerance:
    """How close autograd must be to each reference.

    autograd agrees with symbolic when ``|a - s| <= atol + rtol * |s|``; with numeric when
    ``|a - n| <= 2 * error_estimate + fd_atol + fd_rtol * |n|``. ``fd_target`` is the relative
    accuracy the finite differences try to reach before they stop shrinking their step.
    """

    rtol: float
    atol: float
    fd_rtol: float
    fd_atol: float
    fd_target: float


TOLERANCES: dict[str, Tolerance] = {
    "float64": Tolerance(rtol=1e-9, atol=1e-12, fd_rtol=1e-8, fd_atol=1e-10, fd_target=1e-8),
    "float32": Tolerance(rtol=1e-5, atol=1e-6, fd_rtol=1e-3, fd_atol=1e-4, fd_target=1e-4),
}


def tolerance_for(dtype: str, rtol: float | None = None, atol: float | None = None) -> Tolerance:
    """The dtype's tolerances with the user's overrides applied to both references."""
    tol = TOLERANCES[dtype]
    if rtol is not None:
        tol = replace(tol, rtol=rtol, fd_rtol=max(rtol, tol.fd_rtol) if rtol > 0 else 0.0)
    if atol is not None:
        tol = replace(tol, atol=atol, fd_atol=max(atol, tol.fd_atol) if atol > 0 else 0.0)
    return tol


# gradx check compares whole Jacobians entry by entry against finite differences alone (no
# symbolic reference), so its bar is looser than eval's: (rtol, atol) per dtype. An entry may
# differ by atol + rtol * |numeric| and by twice the numeric error estimate.
CHECK_TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-6, 1e-8),
    "float32": (1e-3, 1e-5),
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
