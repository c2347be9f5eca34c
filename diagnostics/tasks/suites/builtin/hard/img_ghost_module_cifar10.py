import torch
import torch.nn as nn


class GhostModule(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        primary = out_channels // 2
        self.primary = nn.Sequential(
            nn.Conv2d(in_channels, primary, kernel_size=1, bias=False),
            nn.BatchNorm2d(primary),
            nn.ReLU(inplace=True),
        )
        self.cheap = nn.Sequential(
            nn.Conv2d(primary, primary, kernel_size=3, padding=1, groups=primary, bias=False),
            nn.BatchNorm2d(primary),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.primary(x)
        return torch.cat([p, self.cheap(p)], dim=1)


class GhostNetSmall(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
        )
        self.ghost1 = GhostModule(32, 64)
        self.ghost2 = GhostModule(64, 128)
        self.ghost3 = GhostModule(128, 256)
        self.pool = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.ghost1(self.stem(x)))
        x = self.pool(self.ghost2(x))
        x = self.ghost3(x)
        return self.fc(self.dropout(self.gap(x).flatten(1)))


def dl_model() -> nn.Module:
    return GhostNetSmall()
