import torch
import torch.nn as nn


class InceptionModule(nn.Module):
    def __init__(self):
        super().__init__()
        self.path1 = nn.Conv2d(64, 32, kernel_size=1)
        self.path3 = nn.Conv2d(64, 48, kernel_size=3, padding=1)
        self.path5 = nn.Conv2d(64, 16, kernel_size=5, padding=2)
        self.pool = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.pool_proj = nn.Conv2d(64, 16, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p1 = torch.relu(self.path1(x))
        p3 = torch.relu(self.path3(x))
        p5 = torch.relu(self.path5(x))
        pp = torch.relu(self.pool_proj(self.pool(x)))
        return torch.cat([p1, p3, p5, pp], dim=1)


class InceptionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 64, kernel_size=3, padding=1)
        self.inception = InceptionModule()
        self.pool = nn.MaxPool2d(2)
        self.conv = nn.Conv2d(112, 128, kernel_size=3, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem(x))
        x = self.pool(self.inception(x))
        x = torch.relu(self.conv(x))
        return self.fc(self.gap(x).flatten(1))


def dl_model() -> nn.Module:
    return InceptionNet()
