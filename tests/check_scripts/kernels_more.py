"""More kernels for gradx check --against: modules, a float32 kernel, a reference in another file.

``kernels.py`` holds the bfloat16 GELU kernels and their reference; this file checks against it.
"""

import torch
from torch import nn


class Scale(nn.Module):
    """A reference module: y = tanh(W x + b)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        return torch.tanh(self.fc(x))


class FusedScale(nn.Module):
    """The same module as a "fused" kernel: float32 inside, rounded to the input's dtype."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        w, b = self.fc.weight.float(), self.fc.bias.float()
        return torch.tanh(x.float() @ w.T + b).to(x.dtype)


class _WrongWeightGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x @ w.T + b

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        return grad @ w, -(grad.T @ x), grad.sum(0) if grad.dim() > 1 else grad


class WrongWeightScale(nn.Module):
    """A kernel whose weight gradient has the wrong sign."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        x2 = x.reshape(1, -1)
        return torch.tanh(_WrongWeightGrad.apply(x2, self.fc.weight, self.fc.bias)).reshape(-1)


def sin_x_ref(x):
    """Reference for the float32 kernels."""
    return torch.sin(x) * x


def example_sin_x_ref():
    return (torch.linspace(-2, 2, 12, dtype=torch.float64),)


class SinX(torch.autograd.Function):
    """A float32 kernel with one Jacobian entry (element 7) off by 1%."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sin(x) * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        d = torch.cos(x) * x + torch.sin(x)
        d[7] = d[7] * 1.01
        return grad * d


example_SinX = example_sin_x_ref


class IgnoresGrad(torch.autograd.Function):
    """backward forgets to multiply by grad_output."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sin(x) * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return torch.cos(x) * x + torch.sin(x)


example_IgnoresGrad = example_sin_x_ref


class NoGrad(torch.autograd.Function):
    """backward returns None: no gradient at all."""

    @staticmethod
    def forward(ctx, x):
        return torch.sin(x) * x

    @staticmethod
    def backward(ctx, grad):
        return None


example_NoGrad = example_sin_x_ref


def gelu_kernel(x):
    """A plain-function "kernel" checked against kernels.py::fused_gelu_ref (another file)."""
    xf = x.float()
    return torch.nn.functional.gelu(xf, approximate="tanh").to(x.dtype)


def wrong_shape(x):
    """Returns a different shape from the reference."""
    return (torch.sin(x) * x).reshape(-1, 1)
