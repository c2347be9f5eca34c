import torch
import torch.nn as nn


def conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class DualPoolNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stage1 = conv_bn_relu(3, 64)
        self.stage2 = conv_bn_relu(64, 128)
        self.stage3 = conv_bn_relu(128, 256)
        self.pool = nn.MaxPool2d(kernel_size=2)
        self.avg = nn.AdaptiveAvgPool2d(1)
        self.max = nn.AdaptiveMaxPool2d(1)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(512, 100)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.stage1(x))
        x = self.pool(self.stage2(x))
        x = self.stage3(x)
        pooled = torch.cat([self.avg(x).flatten(1), self.max(x).flatten(1)], dim=1)
        return self.fc(self.dropout(pooled))


def dl_model() -> nn.Module:
    return DualPoolNet()
