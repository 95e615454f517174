"""Uses its command-line arguments: --mode twice makes it backpropagate twice."""

import argparse

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--mode", default="once")
parser.add_argument("steps", type=int)
arguments = parser.parse_args()
x = torch.ones(2, requires_grad=True)
y = (x.exp() * 3).sum()
for _step in range(arguments.steps):
    y.backward(retain_graph=arguments.mode == "once")
