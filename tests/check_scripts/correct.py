"""Targets whose gradients are right: every one must PASS."""

import torch
from torch import nn
from torch.nn.functional import softplus  # imported: not a target

SCALE = 3.0  # not a target


def square(x):
    return x * x


def poly(x, y, power=3):
    # `power` has a non-tensor default and keeps it.
    return x**power * y + torch.sin(x * y)


def softmax(x):
    # A vector output: the full Jacobian, without any .sum().
    return torch.softmax(x, dim=0)


def example_softmax():
    return torch.tensor([0.3, -1.2, 2.0, 0.7])


def branchy(x):
    # Python control flow on a tensor value: vmap cannot batch it.
    if x.sum() > 0:
        return x**2
    return -(x**3)


def example_branchy():
    return (torch.tensor([0.5, 1.5, -0.25]),)


def branchless(x):
    # branchy without Python control flow: vectorised, and the same verdict.
    return torch.where(x.sum() > 0, x**2, -(x**3))


def example_branchless():
    return (torch.tensor([0.5, 1.5, -0.25]),)


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad


class MulSquare(torch.autograd.Function):
    """f(a, b) = a * b**2."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b**2

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b**2, grad * 2 * a * b


def example_MulSquare():
    return torch.tensor([0.5, -1.5]), torch.tensor([1.25, 0.75])


class TinyMLP(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.hidden = nn.Linear(3, width)
        self.out = nn.Linear(width, 2)

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x)))


class NeedsSize(nn.Module):  # needs constructor arguments: skipped
    def __init__(self, n):
        super().__init__()
        self.lin = nn.Linear(n, n)

    def forward(self, x):
        return self.lin(x)


def _helper(x):  # private: not a target
    raise AssertionError("private helpers are not checked")


def smooth(x):
    return softplus(x) + x


if __name__ == "__main__":
    raise SystemExit("the __main__ block must not run under gradx check")
