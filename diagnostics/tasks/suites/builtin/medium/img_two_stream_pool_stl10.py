import torch
import torch.nn as nn


class TwoStreamNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, kernel_size=5, stride=2, padding=2)
        self.max_pool = nn.MaxPool2d(kernel_size=2)
        self.avg_pool = nn.AvgPool2d(kernel_size=2)
        self.max_conv = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.avg_conv = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.down = nn.Conv2d(64, 128, kernel_size=3, stride=2, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem(x))
        a = torch.relu(self.max_conv(self.max_pool(x)))
        b = torch.relu(self.avg_conv(self.avg_pool(x)))
        x = torch.relu(self.down(a + b))
        return self.fc(self.gap(x).flatten(1))


def dl_model() -> nn.Module:
    return TwoStreamNet()
