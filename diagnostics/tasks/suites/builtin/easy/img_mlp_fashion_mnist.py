import torch
import torch.nn as nn


class FashionMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.hidden1 = nn.Linear(in_features=784, out_features=256)
        self.dropout = nn.Dropout(p=0.2)
        self.hidden2 = nn.Linear(in_features=256, out_features=128)
        self.classifier = nn.Linear(in_features=128, out_features=10)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.flatten(x)
        x = self.dropout(self.relu(self.hidden1(x)))
        x = self.relu(self.hidden2(x))
        return self.classifier(x)


def dl_model() -> nn.Module:
    return FashionMLP()
