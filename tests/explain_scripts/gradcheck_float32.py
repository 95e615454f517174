"""gradcheck on float32 inputs: a warning, then a false Jacobian mismatch."""

import torch

torch.manual_seed(0)
x = torch.randn(8, requires_grad=True)
torch.autograd.gradcheck(torch.exp, (x,))
