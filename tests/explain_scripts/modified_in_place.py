"""sigmoid saves its output; changing it in place breaks backward."""

import torch

x = torch.randn(5, requires_grad=True)
y = torch.sigmoid(x)
z = y * 2
y.mul_(3)
loss = (z + y).sum()
loss.backward()
