import torch
import torch.nn as nn


def conv_bn_relu(
    in_channels: int, out_channels: int, kernel_size: int, stride: int = 1
) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size=kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            bias=False,
        ),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class InceptionResNetBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.branch1 = conv_bn_relu(64, 16, kernel_size=1)
        self.branch2 = nn.Sequential(
            conv_bn_relu(64, 16, kernel_size=1),
            conv_bn_relu(16, 16, kernel_size=3),
        )
        self.branch3 = nn.Sequential(
            conv_bn_relu(64, 16, kernel_size=1),
            conv_bn_relu(16, 24, kernel_size=3),
            conv_bn_relu(24, 32, kernel_size=3),
        )
        self.project = nn.Conv2d(64, 64, kernel_size=1)
        self.scale = 0.2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mixed = torch.cat([self.branch1(x), self.branch2(x), self.branch3(x)], dim=1)
        return torch.relu(x + self.scale * self.project(mixed))


class InceptionResNetSmall(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn_relu(3, 64, kernel_size=3)
        self.blocks = nn.Sequential(InceptionResNetBlock(), InceptionResNetBlock())
        self.pool = nn.MaxPool2d(2)
        self.reduce = conv_bn_relu(64, 128, kernel_size=3, stride=2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.blocks(self.stem(x)))
        x = self.reduce(x)
        return self.fc(self.gap(x).flatten(1))


def dl_model() -> nn.Module:
    return InceptionResNetSmall()
