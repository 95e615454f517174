"""Waits for a line on standard input; --run closes stdin so it cannot hang."""

import torch

line = input("name? ")
w = torch.ones(2, requires_grad=True)
w += 1
