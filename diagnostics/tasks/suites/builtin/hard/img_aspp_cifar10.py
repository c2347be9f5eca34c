import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_relu(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size=kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            bias=False,
        ),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class ASPP(nn.Module):
    def __init__(self):
        super().__init__()
        self.branch1 = conv_bn_relu(128, 64, kernel_size=1)
        self.branch2 = conv_bn_relu(128, 64, kernel_size=3, padding=2, dilation=2)
        self.branch3 = conv_bn_relu(128, 64, kernel_size=3, padding=4, dilation=4)
        self.branch4 = conv_bn_relu(128, 64, kernel_size=3, padding=6, dilation=6)
        self.image_pool = nn.AdaptiveAvgPool2d(1)
        self.image_conv = conv_bn_relu(128, 64, kernel_size=1)
        self.project = conv_bn_relu(320, 128, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        pooled = self.image_conv(self.image_pool(x))
        pooled = F.interpolate(pooled, size=size, mode="bilinear", align_corners=False)
        out = torch.cat(
            [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x), pooled], dim=1
        )
        return self.project(out)


class ASPPNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn_relu(3, 64, kernel_size=3, padding=1),
            conv_bn_relu(64, 128, kernel_size=3, stride=2, padding=1),
        )
        self.aspp = ASPP()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.aspp(self.features(x))
        return self.fc(self.gap(x).flatten(1))


def dl_model() -> nn.Module:
    return ASPPNet()
