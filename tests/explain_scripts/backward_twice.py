"""Carries a hidden state across iterations without detach: fails in the second iteration."""

import torch

cell = torch.nn.RNNCell(4, 8)
head = torch.nn.Linear(8, 1)
h = torch.zeros(1, 8)
for _step in range(3):
    x = torch.randn(1, 4)
    h = cell(x, h)
    loss = head(h).pow(2).mean()
    loss.backward()
