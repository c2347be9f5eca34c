import torch
import torch.nn as nn


class TwoBranchNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.branch3x3 = nn.Conv2d(in_channels=1, out_channels=16, kernel_size=3, padding=1)
        self.branch5x5 = nn.Conv2d(in_channels=1, out_channels=16, kernel_size=5, padding=2)
        self.pool = nn.MaxPool2d(kernel_size=2)
        self.conv = nn.Conv2d(in_channels=32, out_channels=64, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(in_features=64 * 7 * 7, out_features=128)
        self.fc2 = nn.Linear(in_features=128, out_features=10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.relu(self.branch3x3(x))
        b = torch.relu(self.branch5x5(x))
        x = torch.cat([a, b], dim=1)
        x = self.pool(x)
        x = self.pool(torch.relu(self.conv(x)))
        x = torch.flatten(x, start_dim=1)
        x = torch.relu(self.fc1(x))
        return self.fc2(x)


def dl_model() -> nn.Module:
    return TwoBranchNet()
