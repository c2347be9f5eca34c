import torch
import torch.nn as nn


def double_conv(in_channels, out_channels):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class MembraneUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.down1 = double_conv(1, 32)
        self.down2 = double_conv(32, 64)
        self.down3 = double_conv(64, 128)
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = double_conv(128, 256)
        self.upsample = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.up3 = double_conv(384, 128)
        self.up2 = double_conv(192, 64)
        self.up1 = double_conv(96, 32)
        self.classifier = nn.Conv2d(32, 2, kernel_size=1)

    def forward(self, x):
        skip1 = self.down1(x)
        skip2 = self.down2(self.pool(skip1))
        skip3 = self.down3(self.pool(skip2))
        x = self.bottleneck(self.pool(skip3))
        x = self.up3(torch.cat([self.upsample(x), skip3], dim=1))
        x = self.up2(torch.cat([self.upsample(x), skip2], dim=1))
        x = self.up1(torch.cat([self.upsample(x), skip1], dim=1))
        return self.classifier(x)


def dl_model() -> nn.Module:
    return MembraneUNet()
