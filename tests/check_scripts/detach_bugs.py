"""Gradients lost through .data and .detach()."""

import torch
from torch import nn


def data_bug(x, scale):
    return x * scale.data  # scale gets no gradient


def detach_bug(x, w):
    return torch.tanh(w.detach() * x)  # w gets no gradient


def half_detached(x):
    return x * x.detach()  # d/dx is x, not 2x


def example_half_detached():
    return torch.tensor([0.5, 1.25, -0.75])


def branchy_detached(x):
    # The same bug behind Python control flow (checked point by point, same verdict).
    if x.sum() > 0:
        return x * x.detach()
    return x


def example_branchy_detached():
    return torch.tensor([0.5, 1.25, -0.75])


class DataParameter(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.tensor([0.5, -1.0, 2.0]))
        self.bias = nn.Parameter(torch.tensor(0.25))

    def forward(self, x):
        return (self.weight.data * x).sum() + self.bias  # weight used through .data


def example_DataParameter():
    return torch.tensor([1.5, -0.5, 0.75])
