import torch
import torch.nn as nn


class Fire(nn.Module):
    def __init__(self, in_channels: int, squeeze: int, expand: int):
        super().__init__()
        self.squeeze = nn.Conv2d(in_channels, squeeze, kernel_size=1)
        self.expand1x1 = nn.Conv2d(squeeze, expand, kernel_size=1)
        self.expand3x3 = nn.Conv2d(squeeze, expand, kernel_size=3, padding=1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.relu(self.squeeze(x))
        return torch.cat([self.relu(self.expand1x1(s)), self.relu(self.expand3x3(s))], dim=1)


class SqueezeNetSmall(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.fire1 = Fire(64, 16, 64)
        self.fire2 = Fire(128, 16, 64)
        self.pool = nn.MaxPool2d(2)
        self.fire3 = Fire(128, 32, 128)
        self.classifier = nn.Conv2d(256, 10, kernel_size=1)
        self.gap = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fire2(self.fire1(self.stem(x)))
        x = self.fire3(self.pool(x))
        x = self.gap(self.classifier(x))
        return torch.flatten(x, 1)


def dl_model() -> nn.Module:
    return SqueezeNetSmall()
