"""Every parameter is frozen, so the loss needs no gradient."""

import torch

model = torch.nn.Linear(3, 1)
for p in model.parameters():
    p.requires_grad = False
loss = model(torch.randn(4, 3)).sum()
loss.backward()
