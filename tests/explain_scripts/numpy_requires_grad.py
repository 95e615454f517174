"""Converting a tensor that is part of the graph to NumPy."""

import torch

w = torch.randn(3, requires_grad=True)
prediction = w * 2
values = prediction.numpy()
