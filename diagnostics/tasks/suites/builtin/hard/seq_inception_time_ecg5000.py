import torch
import torch.nn as nn


class InceptionModule(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.bottleneck = nn.Conv1d(in_channels, 32, kernel_size=1, bias=False)
        self.branch9 = nn.Conv1d(32, 32, kernel_size=9, padding=4, bias=False)
        self.branch19 = nn.Conv1d(32, 32, kernel_size=19, padding=9, bias=False)
        self.branch39 = nn.Conv1d(32, 32, kernel_size=39, padding=19, bias=False)
        self.pool_branch = nn.Sequential(
            nn.MaxPool1d(kernel_size=3, stride=1, padding=1),
            nn.Conv1d(in_channels, 32, kernel_size=1, bias=False),
        )
        self.bn = nn.BatchNorm1d(128)
        self.relu = nn.ReLU()

    def forward(self, x):
        reduced = self.bottleneck(x)
        branches = [
            self.branch9(reduced),
            self.branch19(reduced),
            self.branch39(reduced),
            self.pool_branch(x),
        ]
        return self.relu(self.bn(torch.cat(branches, dim=1)))


class ResidualStage(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.inception_blocks = nn.Sequential(
            InceptionModule(in_channels),
            InceptionModule(128),
            InceptionModule(128),
        )
        self.shortcut = nn.Sequential(
            nn.Conv1d(in_channels, 128, kernel_size=1, bias=False),
            nn.BatchNorm1d(128),
        )
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.inception_blocks(x) + self.shortcut(x))


class InceptionTime(nn.Module):
    def __init__(self):
        super().__init__()
        self.stage1 = ResidualStage(1)
        self.stage2 = ResidualStage(128)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.fc = nn.Linear(128, 5)

    def forward(self, x):
        x = self.stage2(self.stage1(x))
        x = self.pool(x).squeeze(-1)
        return self.fc(x)


def dl_model() -> nn.Module:
    return InceptionTime()
