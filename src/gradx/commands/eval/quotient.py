"""``gradx eval EXPR --at X --quotient``: the forward and central difference quotients of f at
one point for h = 10⁻¹ … 10⁻¹⁶, against autograd — the calculus exercise that shows why
truncation error shrinks with h until rounding error takes over (and why gradx's own finite
differences use Richardson extrapolation and steps scaled to x).

All sixteen steps are evaluated in one batched pass, in the requested dtype.
"""

from __future__ import annotations

import math

import torch

from gradx.commands.eval.autograd_derivatives import values_and_derivatives
from gradx.commands.eval.model import QuotientReport, QuotientRow
from gradx.commands.eval.points import build_grid, split_top_level
from gradx.errors import GradxError
from gradx.expression.parser import parse_expression
from gradx.expression.to_torch import evaluate
from gradx.numerics.settings import DType

STEPS = tuple(10.0**-k for k in range(1, 17))


def difference_quotients(
    expression: str,
    at: tuple[str, ...],
    *,
    wrt: tuple[str, ...] = (),
    dtype: str = "float64",
    has_range: bool = False,
    order: int = 1,
) -> QuotientReport:
    """The quotient table at one point (GradxError, exit 2, for anything but one point)."""
    if has_range:
        raise GradxError("--quotient works at one point: give --at, not --range")
    if order != 1:
        raise GradxError("--quotient shows first-derivative quotients: leave out --order")
    parsed_dtype = DType.parse(dtype)  # float16 and bfloat16 too: the turn comes early there
    dtype = str(parsed_dtype)
    parsed = parse_expression(expression)
    if not parsed.variables:
        raise GradxError("--quotient needs an expression with a variable, such as 3*x^2 - 4*x")
    names = [n.strip() for spec in wrt for n in split_top_level(spec, ",") if n.strip()]
    if not names and len(parsed.variables) == 1:
        names = list(parsed.variables)
    if len(names) != 1 or names[0] not in parsed.variables:
        raise GradxError(
            "--quotient differentiates along one variable: name it with --wrt "
            f"(the variables: {', '.join(parsed.variables)})"
        )
    variable = names[0]
    grid = build_grid(parsed.variables, at, (), None)
    if grid.size != 1 or grid.axes:
        raise GradxError(
            f"--quotient works at one point: --at gives {grid.size} points "
            "(one number per variable, as in --at x=1)"
        )
    point = grid.chunk(0, 1)
    torch_dtype = parsed_dtype.torch

    # The reference: f, f', f'', f''' by autograd in float64.
    x64 = {v: t.to(torch.float64) for v, t in point.items()}
    value, first = values_and_derivatives(parsed, x64, (variable,), 1)
    autograd = float(first[(variable,)][0])
    higher = []
    for k in (2, 3):
        try:
            _, d = values_and_derivatives(parsed, x64, (variable,), k)
            higher.append(float(d[(variable,) * k][0]))
        except RuntimeError:  # e.g. an operation without a k-th derivative in torch
            higher.append(math.nan)
    if not (math.isfinite(float(value[0])) and math.isfinite(autograd)):
        raise GradxError(
            f"f or its autograd derivative is not finite at this point ({float(value[0]):g}, "
            f"{autograd:g}): the quotients have nothing to approach"
        )

    h = torch.tensor(STEPS, dtype=torch_dtype)
    x = {v: t.to(torch_dtype) for v, t in point.items()}
    n = len(STEPS)
    with torch.no_grad():
        here = torch.broadcast_to(evaluate(parsed.root, x, torch_dtype), (n,))
        plus = dict(x)
        minus = dict(x)
        plus[variable] = x[variable] + h
        minus[variable] = x[variable] - h
        f_plus = torch.broadcast_to(evaluate(parsed.root, plus, torch_dtype), (n,))
        f_minus = torch.broadcast_to(evaluate(parsed.root, minus, torch_dtype), (n,))
        forward = ((f_plus - here) / h).to(torch.float64)
        central = ((f_plus - f_minus) / (2 * h)).to(torch.float64)
    forward_error = (forward - autograd).abs()
    central_error = (central - autograd).abs()
    rows = tuple(
        QuotientRow(step, *(float(t[i]) for t in (forward, central, forward_error, central_error)))
        for i, step in enumerate(STEPS)
    )
    eps = torch.finfo(torch_dtype).eps
    scale = max(abs(float(value[0])), eps)
    second, third = higher
    return QuotientReport(
        expression=expression,
        variable=variable,
        at=tuple((v, float(t[0])) for v, t in point.items()),
        dtype=dtype,
        epsilon=eps,
        value=float(value[0]),
        autograd=autograd,
        rows=rows,
        best_forward=_best(forward_error),
        best_central=_best(central_error),
        # truncation |f''| h/2 = rounding 2 eps |f| / h; |f'''| h²/6 = eps |f| / h
        theory_forward=_crossing(4 * eps * scale / abs(second), 2) if second else None,
        theory_central=_crossing(6 * eps * scale / abs(third), 3) if third else None,
    )


def _best(error: torch.Tensor) -> int:
    finite = torch.where(torch.isfinite(error), error, math.inf)
    return int(torch.argmin(finite))


def _crossing(ratio: float, power: int) -> float | None:
    value = ratio ** (1 / power)
    return value if math.isfinite(value) and value > 0 else None
