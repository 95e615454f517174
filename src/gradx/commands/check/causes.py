"""Name the likely cause of a gradient mismatch from the pattern of the wrong entries.

Rules, first match wins: NaN gradient; backward ignoring grad_output (found by a linearity
test, not by the entries); missing gradient (autograd 0 or None where the numeric derivative is
not); swapped gradients of two inputs; transposed Jacobian; sign error; constant factor. Where
there is no custom backward and the forward cuts the graph (``.detach()``, ``.data``), the cut
is named instead (``cut_cause``).
"""

from __future__ import annotations

import torch

from gradx.commands.check.model import GradientCause
from gradx.translations import phrase

Tensor = torch.Tensor


def nan_cause(order: int) -> GradientCause:
    """Autograd gave NaN where the function (and its numeric derivative) is finite."""
    if order == 2:
        return GradientCause(
            "nan",
            phrase(
                "NaN second derivative where the function is finite: a NaN from a branch that "
                "is not taken leaks into the gradient (e.g. torch.where(x > 0, torch.sqrt(x), "
                "0)); compute the unsafe branch on a safe input, e.g. "
                "torch.sqrt(torch.where(x > 0, x, 1))"
            ),
        )
    return GradientCause(
        "nan",
        phrase(
            "NaN gradient where the function is finite: a NaN from a branch that is not taken "
            "leaks into the gradient (e.g. torch.where(x > 0, torch.sqrt(x), 0)); compute the "
            "unsafe branch on a safe input, e.g. torch.sqrt(torch.where(x > 0, x, 1))"
        ),
    )


def ignores_grad_output_cause() -> GradientCause:
    """backward(c·g) ≠ c·backward(g): the upstream gradient is not used (or not linearly)."""
    return GradientCause(
        "ignores-grad-output",
        phrase(
            "backward ignores grad_output: it is right for an upstream gradient of 1 but wrong "
            "for others; multiply by grad_output in backward (the chain rule)"
        ),
    )


def missing_cause(
    names: list[str], *, unused: list[str], no_graph: bool, order: int
) -> GradientCause:
    """autograd is 0 (or None) where the numeric derivative is not."""
    listed = ", ".join(names)
    if order == 2:
        return GradientCause(
            "missing",
            phrase(
                "missing second derivative for {names}: double backward gives 0 where the "
                "numeric one is not; backward is not differentiable (it uses .detach(), .data, "
                "torch.no_grad() or @once_differentiable)",
                names=listed,
            ),
        )
    if no_graph:
        return GradientCause(
            "missing",
            phrase(
                "missing gradient: the output is not connected to the inputs by autograd "
                "(.detach(), .data, .item(), .numpy() or torch.no_grad() cut the graph)"
            ),
        )
    none = [n for n in names if n in unused]
    if none:
        return GradientCause(
            "missing",
            phrase(
                "missing gradient: autograd returns no gradient (None) for {names}; it reaches "
                "the output through .data or .detach() (or torch.no_grad()), or backward "
                "returns None or zeros for it",
                names=", ".join(none),
            ),
        )
    return GradientCause(
        "missing",
        phrase(
            "missing gradient: autograd gives 0 for {names} where the numeric derivative is "
            "not; it reaches the output through .data or .detach() (or torch.no_grad()), or "
            "backward returns None or zeros for it",
            names=listed,
        ),
    )


def entry_cause(
    a: Tensor, f: Tensor, allowed: Tensor, *, whole: bool, rtol: float
) -> GradientCause | None:
    """Sign error or constant factor, from the wrong entries' autograd ``a`` and numeric ``f``.

    ``whole`` says that the wrong entries are all the non-zero entries checked, so that a single
    wrong entry may still be called a constant factor (a scalar function).
    """
    if a.numel() == 0:
        return None
    if bool(((a + f).abs() <= allowed).all()):
        return GradientCause(
            "sign",
            phrase(
                "sign error: autograd ≈ −numeric on every wrong entry (a minus sign missing or "
                "extra in backward)"
            ),
        )
    usable = f.abs() > allowed
    if not bool(usable.any()) or (a.numel() < 2 and not whole):
        return None
    ratios = a[usable] / f[usable]
    middle = ratios.median()
    if not bool(torch.isfinite(middle)) or float(middle) == 0.0:
        return None
    spread = ((ratios - middle).abs() / middle.abs()).max()
    if float(spread) <= max(1e-6, 10 * rtol) and abs(float(middle) - 1) > 10 * rtol:
        return GradientCause(
            "factor",
            phrase(
                "constant factor: autograd = {factor} × numeric on every wrong entry "
                "(a missing or extra factor in backward)",
                factor=f"{float(middle):.6g}",
            ),
        )
    return None


def structural_cause(
    a: Tensor,
    f: Tensor,
    allowed: Tensor,
    bad: Tensor,
    slices: list[tuple[str, slice]],
    shapes: tuple[tuple[int, ...], ...],
) -> GradientCause | None:
    """Swapped gradients of two same-shaped inputs, or a transposed Jacobian (dense check)."""
    wrong = [k for k, (_, s) in enumerate(slices) if bool(bad[:, s].any())]
    for k in wrong:
        name_k, s_k = slices[k]
        for l_index, (name_l, s_l) in enumerate(slices):
            if l_index == k or shapes[l_index] != shapes[k]:
                continue
            if _close(a[:, s_k], f[:, s_l], allowed[:, s_l]) and _close(
                a[:, s_l], f[:, s_k], allowed[:, s_k]
            ):
                return swapped_cause(name_k, name_l)
    m = a.shape[0]
    for k in wrong:
        name, s = slices[k]
        block_a, block_f, block_allowed = a[:, s], f[:, s], allowed[:, s]
        n = block_a.shape[1]
        if m == n and m > 1 and _close(block_a, block_f.T, block_allowed.T):
            return transposed_cause(name)
        shape = shapes[k]
        if len(shape) == 2 and shape[0] == shape[1] and shape[0] > 1:
            p = shape[0]
            swapped_f = block_f.reshape(m, p, p).transpose(1, 2).reshape(m, n)
            swapped_allowed = block_allowed.reshape(m, p, p).transpose(1, 2).reshape(m, n)
            if _close(block_a, swapped_f, swapped_allowed):
                return transposed_cause(name)
    return None


def swapped_cause(first: str, second: str) -> GradientCause:
    """autograd's gradient of ``first`` is the numeric gradient of ``second`` and back."""
    return GradientCause(
        "swapped",
        phrase(
            "gradients swapped: autograd's gradient for {first} is the numeric gradient of "
            "{second} and the other way round (backward returns them in the wrong order)",
            first=first,
            second=second,
        ),
    )


def transposed_cause(name: str) -> GradientCause:
    """autograd[i, j] ≈ numeric[j, i] for input ``name``."""
    return GradientCause(
        "transposed",
        phrase(
            "transposed Jacobian for {name}: autograd[i, j] ≈ numeric[j, i] (a .T missing or "
            "extra in backward, or the operands of a matmul swapped)",
            name=name,
        ),
    )


def _close(a: Tensor, f: Tensor, allowed: Tensor) -> bool:
    return bool(((a - f).abs() <= allowed).all())


CUT_WORDS = {
    "detach": ".detach()",
    "data": ".data",
    "item": ".item()",
    "tolist": ".tolist()",
    "numpy": ".numpy()",
}


def cut_cause(kind: str, location: str, code: str, names: list[str]) -> GradientCause:
    """The forward cut the graph with ``kind`` (``detach``, ``data``...) at ``location``."""
    what = CUT_WORDS.get(kind, kind)
    code = code.split("  #")[0].strip()  # the line without its comment
    line = f" ({code})" if code else ""
    inputs = ", ".join(names)
    if location:
        return GradientCause(
            "cut",
            phrase(
                "graph cut by {what} at {location}{line}: autograd treats the result as a "
                "constant, so it misses how the output depends on {inputs} through it, which "
                "the finite differences see; use the tensor itself where the gradient should "
                "flow ({what} is for values that must not get one)",
                what=what,
                location=location,
                line=line,
                inputs=inputs,
            ),
        )
    return GradientCause(
        "cut",
        phrase(
            "graph cut by {what}{line}: autograd treats the result as a constant, so it "
            "misses how the output depends on {inputs} through it, which the finite "
            "differences see; use the tensor itself where the gradient should flow ({what} "
            "is for values that must not get one)",
            what=what,
            line=line,
            inputs=inputs,
        ),
    )
