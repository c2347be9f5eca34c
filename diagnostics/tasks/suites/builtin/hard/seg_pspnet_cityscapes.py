import torch
import torch.nn as nn
import torch.nn.functional as F


class PyramidStage(nn.Module):
    def __init__(self, bin_size):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(bin_size)
        self.reduce = nn.Conv2d(256, 64, kernel_size=1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        pooled = self.relu(self.reduce(self.pool(x)))
        return F.interpolate(pooled, size=x.shape[2:], mode="bilinear", align_corners=False)


class PSPNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, 128, kernel_size=3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 256, kernel_size=3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(256),
            nn.ReLU(inplace=True),
        )
        self.stage1 = PyramidStage(1)
        self.stage2 = PyramidStage(2)
        self.stage3 = PyramidStage(3)
        self.stage6 = PyramidStage(6)
        self.fuse = nn.Sequential(
            nn.Conv2d(512, 128, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Conv2d(128, 19, kernel_size=1)

    def forward(self, x):
        input_size = x.shape[2:]
        features = self.backbone(x)
        pooled1 = self.stage1(features)
        pooled2 = self.stage2(features)
        pooled3 = self.stage3(features)
        pooled6 = self.stage6(features)
        pyramid = torch.cat([features, pooled1, pooled2, pooled3, pooled6], dim=1)
        fused = self.fuse(pyramid)
        logits = self.classifier(fused)
        return F.interpolate(logits, size=input_size, mode="bilinear", align_corners=False)


def dl_model() -> nn.Module:
    return PSPNet()
