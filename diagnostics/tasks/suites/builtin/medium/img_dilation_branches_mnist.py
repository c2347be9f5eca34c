import torch
import torch.nn as nn


class DilationBranchNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.d1 = nn.Conv2d(1, 16, kernel_size=3, padding=1, dilation=1)
        self.d2 = nn.Conv2d(1, 16, kernel_size=3, padding=2, dilation=2)
        self.d3 = nn.Conv2d(1, 16, kernel_size=3, padding=3, dilation=3)
        self.pool = nn.MaxPool2d(2)
        self.conv = nn.Conv2d(48, 64, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.cat(
            [torch.relu(self.d1(x)), torch.relu(self.d2(x)), torch.relu(self.d3(x))], dim=1
        )
        x = self.pool(x)
        x = self.pool(torch.relu(self.conv(x)))
        x = torch.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


def dl_model() -> nn.Module:
    return DilationBranchNet()
