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
        self.stages = nn.ModuleList(
            [PyramidStage(1), PyramidStage(2), PyramidStage(3), PyramidStage(6)]
        )
        self.fuse = nn.Sequential(
            nn.Conv2d(512, 128, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Conv2d(128, 19, kernel_size=1)

    def forward(self, x):
        input_size = x.shape[2:]
        features = self.backbone(x)
        pyramid = [features] + [stage(features) for stage in self.stages]
        fused = self.fuse(torch.cat(pyramid, dim=1))
        logits = self.classifier(fused)
        return F.interpolate(logits, size=input_size, mode="bilinear", align_corners=False)


def dl_model() -> nn.Module:
    return PSPNet()
