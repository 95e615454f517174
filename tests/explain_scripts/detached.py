"""A .detach() on the way to the loss cuts the graph."""

import torch

w = torch.randn(3, requires_grad=True)
x = torch.randn(3)
features = (w * x).detach()
loss = features.sum()
loss.backward()
