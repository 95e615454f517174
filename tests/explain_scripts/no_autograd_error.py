"""Trains one step correctly: nothing to explain."""

import torch

w = torch.randn(3, requires_grad=True)
loss = (w**2).sum()
loss.backward()
print("ok", w.grad is not None)
