"""An in-place ReLU overwrites the output that sigmoid saved for backward."""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        h = torch.sigmoid(self.linear(x))
        out = self.act(h)
        return out


def train_step(model, x):
    loss = model(x).sum()
    loss.backward()


train_step(Net(), torch.randn(2, 4))
