"""sqrt at 0 has an infinite derivative: the gradient comes out NaN (no error without anomaly mode)."""

import torch

points = torch.zeros(3, 2, requires_grad=True)
distance = points.pow(2).sum(-1).sqrt()
loss = (distance * 0).sum()
loss.backward()
print("gradient:", points.grad)
