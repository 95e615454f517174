"""Custom autograd.Functions with the classic backward bugs, one per cause."""

import torch


class SignError(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -3 * x**2 * grad  # the minus sign is wrong


class MissingFactor(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return x**2 * grad  # the factor 3 is missing


class Transposed(torch.autograd.Function):
    """y = W @ x, with the gradient for x computed as W @ g instead of W.T @ g."""

    @staticmethod
    def forward(ctx, w, x):
        ctx.save_for_backward(w, x)
        return w @ x

    @staticmethod
    def backward(ctx, grad):
        w, x = ctx.saved_tensors
        return torch.outer(grad, x), w @ grad


def example_Transposed():
    w = torch.tensor([[0.5, -1.25, 2.0], [0.75, 1.5, -0.5], [-1.0, 0.25, 1.75]])
    return w, torch.tensor([0.3, -0.7, 1.1])


class IgnoresGradOutput(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return torch.cos(x)  # grad is never used


class Swapped(torch.autograd.Function):
    """f(a, b) = a * b**2, returning the two gradients in the wrong order."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b**2

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * 2 * a * b, grad * b**2


def example_Swapped():
    return torch.tensor([0.5, -1.5]), torch.tensor([1.25, 0.75])


class OneBadElement(torch.autograd.Function):
    """sin, with the gradient of element 3 scaled by 1.5."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        result = grad * torch.cos(x)
        result[3] = result[3] * 1.5
        return result


def example_OneBadElement(generator):
    return torch.rand(8, generator=generator) + 0.5
