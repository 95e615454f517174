"""Assigning into a slice of a leaf that requires grad."""

import torch

w = torch.randn(4, requires_grad=True)
w[0] = 0.0
