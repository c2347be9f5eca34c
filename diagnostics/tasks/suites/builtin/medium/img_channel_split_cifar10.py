import torch
import torch.nn as nn


class SplitConvBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1x1 = nn.Conv2d(16, 16, kernel_size=1)
        self.conv3x3 = nn.Conv2d(16, 16, kernel_size=3, padding=1)
        self.conv5x5 = nn.Conv2d(16, 16, kernel_size=5, padding=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g1, g2, g3 = torch.chunk(x, 3, dim=1)
        g1 = torch.relu(self.conv1x1(g1))
        g2 = torch.relu(self.conv3x3(g2))
        g3 = torch.relu(self.conv5x5(g3))
        return torch.cat([g1, g2, g3], dim=1)


class SplitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 48, kernel_size=3, padding=1)
        self.split_block = SplitConvBlock()
        self.pool = nn.MaxPool2d(2)
        self.conv = nn.Conv2d(48, 96, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(96 * 8 * 8, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem(x))
        x = self.pool(self.split_block(x))
        x = self.pool(torch.relu(self.conv(x)))
        x = torch.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


def dl_model() -> nn.Module:
    return SplitNet()
