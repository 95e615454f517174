"""Double backward: a backward that is not differentiable itself."""

import torch


class DetachedBackward(torch.autograd.Function):
    """First derivatives are right; backward detaches x, so second derivatives are lost."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x.detach() ** 2 * grad


def wave(x):
    return torch.sin(x) * x
