import torch
import torch.nn as nn


def conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class HourglassNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn_relu(3, 32, stride=2)
        self.enc1 = conv_bn_relu(32, 64, stride=2)
        self.enc2 = conv_bn_relu(64, 128, stride=2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.dec1 = conv_bn_relu(128, 64)
        self.dec2 = conv_bn_relu(64, 32)
        self.head = conv_bn_relu(32, 64, stride=2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.stem(x)
        e1 = self.enc1(s)
        e2 = self.enc2(e1)
        d1 = self.dec1(self.up(e2)) + e1
        d2 = self.dec2(self.up(d1)) + s
        out = self.head(d2)
        return self.fc(self.gap(out).flatten(1))


def dl_model() -> nn.Module:
    return HourglassNet()
