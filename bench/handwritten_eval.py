"""The hand-written baseline for bench/eval_bench.py: the four columns of ``gradx eval``
(value, autograd, symbolic, numeric) for sin(x)*exp(-x^2/10) on [-10, 10], as a careful user
would compute them in one vectorised pass, with a one-line summary."""

import sys

import sympy as sp
import torch

n = int(sys.argv[1])
x = torch.linspace(-10, 10, n, dtype=torch.float64, requires_grad=True)
y = torch.sin(x) * torch.exp(-(x**2) / 10)
(autograd,) = torch.autograd.grad(y.sum(), x)

s = sp.Symbol("x", real=True)
derivative = sp.lambdify(s, sp.diff(sp.sin(s) * sp.exp(-(s**2) / 10), s), modules="torch")
with torch.no_grad():
    xd = x.detach()
    symbolic = derivative(xd)
    h = 1e-6
    numeric = (
        torch.sin(xd + h) * torch.exp(-((xd + h) ** 2) / 10)
        - torch.sin(xd - h) * torch.exp(-((xd - h) ** 2) / 10)
    ) / (2 * h)
    err = (autograd - symbolic).abs().max().item()
    num_err = (autograd - numeric).abs().max().item()
print(f"{n} points; max |autograd - symbolic| {err:.2e}; max |autograd - numeric| {num_err:.2e}")
