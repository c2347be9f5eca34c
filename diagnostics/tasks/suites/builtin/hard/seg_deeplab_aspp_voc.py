import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_relu(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1):
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
        self.branch1 = conv_bn_relu(256, 128, kernel_size=1)
        self.branch6 = conv_bn_relu(256, 128, kernel_size=3, padding=6, dilation=6)
        self.branch12 = conv_bn_relu(256, 128, kernel_size=3, padding=12, dilation=12)
        self.branch18 = conv_bn_relu(256, 128, kernel_size=3, padding=18, dilation=18)
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(256, 128, kernel_size=1),
            nn.ReLU(inplace=True),
        )
        self.project = nn.Sequential(
            conv_bn_relu(640, 128, kernel_size=1),
            nn.Dropout(0.1),
        )

    def forward(self, x):
        size = x.shape[2:]
        pooled = F.interpolate(self.image_pool(x), size=size, mode="bilinear", align_corners=False)
        branches = [self.branch1(x), self.branch6(x), self.branch12(x), self.branch18(x), pooled]
        return self.project(torch.cat(branches, dim=1))


class DeepLabLite(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(
            conv_bn_relu(3, 32, kernel_size=3, stride=2, padding=1),
            conv_bn_relu(32, 64, kernel_size=3, stride=2, padding=1),
            conv_bn_relu(64, 128, kernel_size=3, stride=2, padding=1),
            conv_bn_relu(128, 256, kernel_size=3, padding=2, dilation=2),
        )
        self.aspp = ASPP()
        self.classifier = nn.Conv2d(128, 21, kernel_size=1)

    def forward(self, x):
        input_size = x.shape[2:]
        features = self.backbone(x)
        logits = self.classifier(self.aspp(features))
        return F.interpolate(logits, size=input_size, mode="bilinear", align_corners=False)


def dl_model() -> nn.Module:
    return DeepLabLite()
