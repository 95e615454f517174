"""Low-precision kernels and their reference implementations, for gradx check --against.

``fused_gelu_ref`` is the plain PyTorch reference; ``FusedGelu`` is a "kernel": an
autograd.Function that computes in float32 internally and rounds its results to the input's
dtype, as real fused kernels do. The ``Wrong*`` kernels have the bugs the tests look for.
"""

import math

import torch

C = math.sqrt(2.0 / math.pi)


def example_fused_gelu_ref(generator):
    return (torch.randn(4, 8, generator=generator, dtype=torch.float64) * 2,)


def fused_gelu_ref(x):
    """tanh-GELU in plain PyTorch: runs in whatever dtype x has."""
    return 0.5 * x * (1 + torch.tanh(C * (x + 0.044715 * x**3)))


def _gelu_grad(x):
    inner = C * (x + 0.044715 * x**3)
    t = torch.tanh(inner)
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * C * (1 + 3 * 0.044715 * x * x)


class FusedGelu(torch.autograd.Function):
    """A correct kernel: float32 inside, results rounded to the input's dtype."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xf = x.float()
        return (0.5 * xf * (1 + torch.tanh(C * (xf + 0.044715 * xf**3)))).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad.float() * _gelu_grad(x.float())).to(x.dtype)


example_FusedGelu = example_fused_gelu_ref


class WrongEntryGelu(torch.autograd.Function):
    """One gradient entry, [1, 2], off by 10% of the gradient's scale."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xf = x.float()
        return (0.5 * xf * (1 + torch.tanh(C * (xf + 0.044715 * xf**3)))).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        d = _gelu_grad(x.float())
        d[1, 2] += 0.1 * d.abs().max()
        return (grad.float() * d).to(x.dtype)


example_WrongEntryGelu = example_fused_gelu_ref


class SignFlipGelu(torch.autograd.Function):
    """The gradient of entry [2, 5] has the wrong sign."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xf = x.float()
        return (0.5 * xf * (1 + torch.tanh(C * (xf + 0.044715 * xf**3)))).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        d = _gelu_grad(x.float())
        d[2, 5] = -d[2, 5]
        return (grad.float() * d).to(x.dtype)


example_SignFlipGelu = example_fused_gelu_ref


class Bfloat16Gelu(torch.autograd.Function):
    """A correct kernel computing in bfloat16 itself, in another order than the reference
    (x·sigmoid(2u) for 0.5·x·(1 + tanh u)): as accurate overall, element by element sometimes
    further from float64 than twice the reference's error."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.sigmoid(2 * C * (x + 0.044715 * x * x * x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _gelu_grad(x)


example_Bfloat16Gelu = example_fused_gelu_ref
