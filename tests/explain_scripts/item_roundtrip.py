"""The loss goes through .item() and back into torch.tensor(): no history."""

import torch

w = torch.randn(3, requires_grad=True)
value = (w**2).sum().item()
loss = torch.tensor(value)
loss.backward()
