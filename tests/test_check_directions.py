"""The default method from 32 inputs: J·u along random directions, exact columns where flagged.

Its verdicts, located entries and causes must be those of the full Jacobian method.
"""

from __future__ import annotations

import pytest
import torch

import gradx
from gradx.commands.check.model import Verdict

N = 48


def layer(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    w = torch.randn(N, N, generator=generator, dtype=torch.float64) / N**0.5
    x = torch.randn(N, generator=generator, dtype=torch.float64)
    return w, x


def tanh_layer(w, errors=(), scale=1.0, vmap=False):
    """tanh(W x) as an autograd.Function; ``errors`` = ((i, j, relative error), ...)."""

    class Layer(torch.autograd.Function):
        generate_vmap_rule = vmap

        @staticmethod
        def forward(x):
            return torch.tanh(w @ x)

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(output)

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            upstream = grad * (1 - y**2)
            result = scale * (w.T @ upstream)
            for i, j, relative in errors:
                bump = torch.zeros_like(result)
                bump[j] = relative * w[i, j] * upstream[i]
                result = result + bump
            return result

    return Layer


class CumProd(torch.autograd.Function):
    """cumprod with its own backward and no vmap rule."""

    @staticmethod
    def forward(ctx, x):
        y = torch.cumprod(x, 0)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return torch.flip(torch.cumsum(torch.flip(grad * y, [0]), 0), [0]) / x


def first(report):
    return report.targets[0].checks[0]


def located(check):
    return {(e.output_index[0], e.input_index[0]) for e in check.mismatches}


@pytest.mark.parametrize("vmap", [True, False])
def test_correct_functions_pass_along_directions(vmap):
    w, x = layer()
    check = first(gradx.check(tanh_layer(w, vmap=vmap), x))
    assert check.method == "random directions"
    assert check.verdict is Verdict.PASS and check.mismatch_count == 0
    assert check.worst is not None and check.worst.abs_error <= check.worst.tolerance
    assert check.vectorised is vmap
    near_one = 1 + 0.05 * torch.randn(N, generator=torch.Generator().manual_seed(3))
    assert first(gradx.check(CumProd, near_one.double())).verdict is Verdict.PASS
    conv = torch.randn(1, 1, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(4))

    def smooth_conv(s):
        return torch.nn.functional.gelu(torch.nn.functional.conv1d(s[None, None], conv)[0, 0])

    check = first(gradx.check(smooth_conv, x))
    assert check.method == "random directions" and check.verdict is Verdict.PASS


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("relative", [1e-2, 1e-4])
def test_one_wrong_entry_is_found_with_its_index(seed, relative):
    # A 1e-4 relative error is still 100× above rtol = 1e-6: the full method fails it too.
    w, x = layer(seed)
    generator = torch.Generator().manual_seed(100 + seed)
    i, j = (int(k) for k in torch.randint(0, N, (2,), generator=generator))
    bad = tanh_layer(w, errors=((i, j, relative),))
    directions = first(gradx.check(bad, x))
    full = first(gradx.check(bad, x, method="full"))
    assert directions.method == "random directions"
    assert directions.verdict is full.verdict is Verdict.FAIL
    assert directions.mismatch_count == full.mismatch_count == 1
    assert located(directions) == located(full) == {(i, j)}
    entry = directions.mismatches[0]
    assert entry.autograd == pytest.approx(entry.numeric * (1 + relative), rel=1e-6)
    assert directions.localisation_evaluations > 0


def test_errors_that_cancel_in_one_output_are_still_found():
    # Two entries of one row off by the same amount with opposite signs: a direction with
    # equal coordinates there would see nothing; the random sizes of u's coordinates do.
    w, x = layer(7)
    size = 0.01 * float(w[5, 9])
    rel_other = -size / float(w[5, 30])
    bad = tanh_layer(w, errors=((5, 9, 0.01), (5, 30, rel_other)))
    check = first(gradx.check(bad, x))
    assert check.verdict is Verdict.FAIL
    assert located(check) == {(5, 9), (5, 30)}
    assert located(check) == located(first(gradx.check(bad, x, method="full")))


def test_widespread_errors_get_the_full_jacobian_and_its_cause():
    w, x = layer(1)
    check = first(gradx.check(tanh_layer(w, scale=1.01), x))
    assert check.verdict is Verdict.FAIL
    assert check.method == "full jacobian"  # too many columns flagged to explain one by one
    assert check.cause is not None and check.cause.id == "factor"
    assert check.mismatch_count == N * N


def test_a_backward_that_cannot_be_differentiated_falls_back_to_the_full_jacobian():
    from torch.autograd.function import once_differentiable

    class Sine(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.sin(x)

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * torch.cos(x)

    _, x = layer()
    check = first(gradx.check(Sine, x))
    assert check.verdict is Verdict.PASS and check.method == "full jacobian"
    assert any("cannot be differentiated" in str(note) for note in check.notes)


def test_a_kink_at_an_input_is_reported_as_by_the_full_method():
    w, x = layer(2)
    x = x.clone()
    x[11] = 0.0

    def f(v):
        return torch.tanh(w @ v) + v.abs()

    check = first(gradx.check(f, x))
    full = first(gradx.check(f, x, method="full"))
    assert check.method == "random directions"
    assert check.verdict is full.verdict is Verdict.NONDIFFERENTIABLE
    assert {(k.output_index, k.input_index) for k in check.kinks} == {((11,), (11,))}
    assert {(k.output_index, k.input_index) for k in full.kinks} == {((11,), (11,))}


def test_nan_gradients_and_ignored_grad_output_keep_their_causes():
    _, x = layer(3)

    def masked_sqrt(v):
        return torch.where(v > 0, torch.sqrt(v), torch.zeros_like(v))

    check = first(gradx.check(masked_sqrt, x))
    assert check.verdict is Verdict.FAIL and check.cause.id == "nan"

    class IgnoresGrad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, v):
            ctx.save_for_backward(v)
            return torch.sin(v)

        @staticmethod
        def backward(ctx, grad):
            (v,) = ctx.saved_tensors
            return torch.cos(v)

    check = first(gradx.check(IgnoresGrad, x))
    assert check.verdict is Verdict.FAIL and check.cause.id == "ignores-grad-output"


def test_the_method_can_be_chosen_by_name():
    w, x = layer()
    small = x[:4]
    assert first(gradx.check(torch.sin, small)).method == "full jacobian"
    assert first(gradx.check(torch.sin, small, method="directions")).method == "random directions"
    assert first(gradx.check(tanh_layer(w), x, method="full")).method == "full jacobian"
