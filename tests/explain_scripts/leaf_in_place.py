"""A manual gradient-descent step outside torch.no_grad()."""

import torch

w = torch.randn(3, requires_grad=True)
for _step in range(2):
    loss = (w**2).sum()
    loss.backward()
    w -= 0.1 * w.grad
