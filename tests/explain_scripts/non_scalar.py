"""A per-sample loss (reduction='none') is never reduced."""

import torch
import torch.nn.functional as F

prediction = torch.randn(4, requires_grad=True)
target = torch.randn(4)
loss = F.mse_loss(prediction, target, reduction="none")
loss.backward()
