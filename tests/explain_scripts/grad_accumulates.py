"""d2l's first autograd example, without x.grad.zero_() before the second backward."""

import torch

x = torch.arange(4.0, requires_grad=True)
y = 2 * torch.dot(x, x)
y.backward()
print(x.grad)
y = x.sum()
y.backward()
print(x.grad)  # tensor([1., 5., 9., 13.]): 4x + 1, not 1
