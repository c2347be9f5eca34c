import torch
import torch.nn as nn


class ECA(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.conv = nn.Conv1d(1, 1, kernel_size=3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pool(x).squeeze(-1).transpose(1, 2)
        y = self.conv(y).transpose(1, 2).unsqueeze(-1)
        return x * torch.sigmoid(y)


class ECAStage(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.eca = ECA()
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.eca(torch.relu(self.bn(self.conv(x)))))


class ECANet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stage1 = ECAStage(3, 32)
        self.stage2 = ECAStage(32, 64)
        self.stage3 = ECAStage(64, 128)
        self.fc1 = nn.Linear(128 * 4 * 4, 256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stage3(self.stage2(self.stage1(x)))
        x = torch.relu(self.fc1(x.flatten(1)))
        return self.fc2(x)


def dl_model() -> nn.Module:
    return ECANet()
