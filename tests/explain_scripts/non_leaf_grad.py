"""Reads .grad of a tensor moved after requires_grad=True: a warning, and None."""

import torch

x = torch.randn(3, requires_grad=True).double()
(x**2).sum().backward()
print("gradient:", x.grad)
