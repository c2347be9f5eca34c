import torch
import torch.nn as nn
import torch.nn.functional as F


def stage(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class PyramidNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = stage(3, 64)
        self.c2 = stage(64, 128)
        self.c3 = stage(128, 256)
        self.lateral1 = nn.Conv2d(64, 128, kernel_size=1)
        self.lateral2 = nn.Conv2d(128, 128, kernel_size=1)
        self.lateral3 = nn.Conv2d(256, 128, kernel_size=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(384, 100)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f1 = self.c1(x)
        f2 = self.c2(f1)
        f3 = self.c3(f2)
        p3 = self.lateral3(f3)
        p2 = self.lateral2(f2) + F.interpolate(p3, scale_factor=2, mode="nearest")
        p1 = self.lateral1(f1) + F.interpolate(p2, scale_factor=2, mode="nearest")
        pooled = [self.gap(p).flatten(1) for p in (p1, p2, p3)]
        return self.fc(torch.cat(pooled, dim=1))


def dl_model() -> nn.Module:
    return PyramidNet()
