import torch
import torch.nn as nn


class CrossLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Linear(221, 1, bias=False)
        self.bias = nn.Parameter(torch.zeros(221))

    def cross(self, x0, x):
        return x0 * self.weight(x) + self.bias + x


class DeepCrossNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(1000, 8)
        self.cross1 = CrossLayer()
        self.cross2 = CrossLayer()
        self.cross3 = CrossLayer()
        self.deep = nn.Sequential(
            nn.Linear(221, 128),
            nn.ReLU(),
            nn.Linear(128, 64),
            nn.ReLU(),
        )
        self.output = nn.Linear(285, 1)

    def forward(self, dense, categorical):
        embedded = self.embedding(categorical).flatten(start_dim=1)
        x0 = torch.cat([embedded, dense], dim=1)
        x = self.cross1.cross(x0, x0)
        x = self.cross2.cross(x0, x)
        x = self.cross3.cross(x0, x)
        deep_out = self.deep(x0)
        return self.output(torch.cat([x, deep_out], dim=1))


def dl_model() -> nn.Module:
    return DeepCrossNetwork()
