"""Finite differences against closed forms: accuracy, error estimates, steps, domain edges."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import torch

from gradx.numerics import finite_difference as fd

F64 = torch.float64


def sin_exp(env):
    x = env["x"]
    return torch.sin(x) * torch.exp(-(x**2) / 10)


def sin_exp_prime(x):
    return torch.exp(-(x**2) / 10) * (torch.cos(x) - x / 5 * torch.sin(x))


def test_fornberg_weights_are_the_textbook_ones():
    as_fractions = lambda offsets, order: fd.fornberg_weights(tuple(map(Fraction, offsets)), order)  # noqa: E731
    assert as_fractions((-1, 0, 1), 1) == (Fraction(-1, 2), 0, Fraction(1, 2))
    assert as_fractions((-1, 0, 1), 2) == (1, -2, 1)
    assert as_fractions((0, 1, 2), 1) == (Fraction(-3, 2), 2, Fraction(-1, 2))
    assert as_fractions((-2, -1, 0, 1, 2), 1) == (
        Fraction(1, 12),
        Fraction(-2, 3),
        0,
        Fraction(2, 3),
        Fraction(-1, 12),
    )


def test_smooth_float64_agrees_to_1e10_relative_and_the_estimate_covers_the_error():
    x = torch.linspace(-10, 10, 2001, dtype=F64)
    result = fd.derivative(sin_exp, {"x": x}, ["x"])
    truth = sin_exp_prime(x)
    error = (result.estimate - truth).abs()
    assert float((error / truth.abs().clamp(min=1e-3)).max()) < 1e-10
    assert bool((error <= result.error + 1e-15).all())


@pytest.mark.parametrize(
    ("f", "key", "x", "truth"),
    [
        (lambda e: torch.sin(e["x"]), ("x", "x"), 0.7, -math.sin(0.7)),
        (lambda e: torch.sin(e["x"]), ("x", "x", "x"), 0.7, -math.cos(0.7)),
        (lambda e: torch.exp(e["x"]), ("x",), 20.0, math.exp(20.0)),
        (lambda e: e["x"] ** 3, ("x",), 1.3e9, 3 * 1.3e9**2),
    ],
)
def test_higher_orders_and_large_arguments(f, key, x, truth):
    result = fd.derivative(f, {"x": torch.tensor([x], dtype=F64)}, key)
    assert float(result.estimate[0]) == pytest.approx(truth, rel=1e-7)
    assert abs(float(result.estimate[0]) - truth) <= float(result.error[0]) + 1e-12 * abs(truth)


def test_mixed_partial():
    x = torch.tensor([0.7, -2.0], dtype=F64)
    y = torch.tensor([0.3, 1.2], dtype=F64)
    result = fd.derivative(lambda e: torch.sin(e["x"] * e["y"]), {"x": x, "y": y}, ["x", "y"])
    truth = torch.cos(x * y) - x * y * torch.sin(x * y)
    assert torch.allclose(result.estimate, truth, rtol=1e-8, atol=0)


def test_float32_step_is_larger_and_still_accurate():
    x = torch.linspace(-10, 10, 101, dtype=torch.float32)
    result = fd.derivative(sin_exp, {"x": x}, ["x"])
    truth = sin_exp_prime(x.double())
    assert float((result.estimate.double() - truth).abs().max()) < 1e-5
    assert float(fd.base_step(torch.ones(1), 1, torch.float32)[0]) > 1e-2
    assert float(fd.base_step(torch.ones(1, dtype=F64), 1, F64)[0]) < 1e-2


def test_steps_are_powers_of_two_scaled_by_x():
    steps = fd.base_step(torch.tensor([0.0, 1.0, 1e6], dtype=F64), 1, F64)
    exponents = torch.log2(steps)
    assert bool((exponents == torch.round(exponents)).all())
    assert float(steps[2] / steps[1]) == pytest.approx(2.0**20, rel=0.5)


def test_steps_shrink_near_the_edge_of_the_domain():
    x = torch.tensor([1e-3, 1e-6], dtype=F64)
    result = fd.robust_derivative(lambda e: torch.log(e["x"]), {"x": x}, ["x"], target=1e-10)
    assert torch.allclose(result.estimate, 1 / x, rtol=1e-8)


def test_one_sided_differences_at_a_domain_boundary():
    # x^1.5 is defined only for x >= 0: the central stencil fails at 0, a forward one works.
    x = torch.tensor([0.0], dtype=F64)
    result = fd.robust_derivative(
        lambda e: e["x"] * torch.sqrt(e["x"]), {"x": x}, ["x"], target=1e-10
    )
    assert math.isfinite(float(result.estimate[0]))
    assert abs(float(result.estimate[0])) < 1e-3


def test_one_sided_stencils_see_a_kink_that_central_ones_hide():
    x = torch.tensor([0.0], dtype=F64)
    f = lambda e: torch.abs(e["x"])  # noqa: E731
    central = fd.derivative(f, {"x": x}, ["x"])
    right = fd.derivative(f, {"x": x}, ["x"], scheme=fd.FORWARD)
    left = fd.derivative(f, {"x": x}, ["x"], scheme=fd.BACKWARD)
    assert float(central.estimate[0]) == 0.0
    assert float(right.estimate[0]) == pytest.approx(1.0)
    assert float(left.estimate[0]) == pytest.approx(-1.0)
