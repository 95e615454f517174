"""The loss is computed under torch.no_grad(): element 0 of tensors does not require grad."""

import torch

model = torch.nn.Linear(3, 1)
x = torch.randn(8, 3)
y = torch.randn(8, 1)
with torch.no_grad():
    prediction = model(x)
loss = ((prediction - y) ** 2).mean()
loss.backward()
