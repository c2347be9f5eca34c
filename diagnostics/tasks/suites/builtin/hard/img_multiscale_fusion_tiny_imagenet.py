import torch
import torch.nn as nn


def conv_bn_relu(
    in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1
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


class MultiScaleFusionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn_relu(3, 32, stride=2)
        self.full_res = nn.Sequential(conv_bn_relu(32, 32), nn.AdaptiveAvgPool2d(8))
        self.half_res = nn.Sequential(
            nn.AvgPool2d(kernel_size=2), conv_bn_relu(32, 32), nn.AdaptiveAvgPool2d(8)
        )
        self.quarter_res = nn.Sequential(nn.AvgPool2d(kernel_size=4), conv_bn_relu(32, 32))
        self.fuse = conv_bn_relu(96, 128, kernel_size=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(128, 200)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        fused = torch.cat([self.full_res(x), self.half_res(x), self.quarter_res(x)], dim=1)
        x = self.gap(self.fuse(fused)).flatten(1)
        return self.fc(self.dropout(x))


def dl_model() -> nn.Module:
    return MultiScaleFusionNet()
