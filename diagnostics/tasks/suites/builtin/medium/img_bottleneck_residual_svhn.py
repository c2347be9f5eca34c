import torch
import torch.nn as nn


class Bottleneck(nn.Module):
    def __init__(self):
        super().__init__()
        self.reduce = nn.Conv2d(64, 32, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv = nn.Conv2d(32, 32, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.expand = nn.Conv2d(32, 128, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(128)
        self.shortcut = nn.Sequential(
            nn.Conv2d(64, 128, kernel_size=1, bias=False),
            nn.BatchNorm2d(128),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.reduce(x)))
        out = torch.relu(self.bn2(self.conv(out)))
        out = self.bn3(self.expand(out))
        return torch.relu(out + self.shortcut(x))


class BottleneckNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(),
        )
        self.block = Bottleneck()
        self.pool = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.block(self.stem(x)))
        return self.fc(self.gap(x).flatten(1))


def dl_model() -> nn.Module:
    return BottleneckNet()
