"""gradcheck on float32 inputs: a warning, then (usually) a false Jacobian mismatch."""

import torch

x = torch.randn(8, requires_grad=True)
torch.autograd.gradcheck(torch.exp, (x,))
