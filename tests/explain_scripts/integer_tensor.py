"""Integer literals: torch.tensor([1, 2, 3]) is int64 and cannot require grad."""

import torch

weights = torch.tensor([1, 2, 3], requires_grad=True)
print(weights)
