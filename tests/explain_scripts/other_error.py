"""Fails with an error that has nothing to do with autograd."""

import torch

a = torch.randn(2, 3)
b = torch.randn(4, 5)
c = a @ b
