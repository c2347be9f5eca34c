import torch
import torch.nn as nn


class PooledPointwiseNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AvgPool2d(kernel_size=5, stride=3)
        self.pointwise = nn.Conv2d(in_channels=1, out_channels=16, kernel_size=1)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(in_features=1024, out_features=128)
        self.dropout = nn.Dropout(p=0.5)
        self.fc2 = nn.Linear(in_features=128, out_features=10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.pointwise(self.pool(x)))
        x = self.flatten(x)
        x = self.dropout(torch.relu(self.fc1(x)))
        return self.fc2(x)


def dl_model() -> nn.Module:
    return PooledPointwiseNet()
