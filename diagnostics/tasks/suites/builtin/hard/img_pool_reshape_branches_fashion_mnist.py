import torch
import torch.nn as nn


class PoolReshapeBranchNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 16, kernel_size=3, padding=1)
        self.pool1 = nn.AdaptiveAvgPool2d(1)
        self.pool2 = nn.AdaptiveAvgPool2d(2)
        self.pool4 = nn.AdaptiveAvgPool2d(4)
        self.fc_block1 = nn.Linear(336, 512)
        self.path1 = nn.Conv2d(32, 32, kernel_size=1)
        self.path2 = nn.Conv2d(32, 32, kernel_size=3, padding=1)
        self.path3 = nn.Sequential(
            nn.Conv2d(32, 32, kernel_size=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, kernel_size=3, padding=1),
        )
        self.path4 = nn.Sequential(
            nn.AvgPool2d(kernel_size=3, stride=1, padding=1),
            nn.Conv2d(32, 32, kernel_size=1),
        )
        self.fc_out = nn.Linear(2048, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(x))
        pooled = torch.cat(
            [self.pool1(x).flatten(1), self.pool2(x).flatten(1), self.pool4(x).flatten(1)],
            dim=1,
        )
        x = torch.relu(self.fc_block1(pooled)).reshape(-1, 32, 4, 4)
        branches = [
            torch.relu(self.path1(x)),
            torch.relu(self.path2(x)),
            torch.relu(self.path3(x)),
            torch.relu(self.path4(x)),
        ]
        x = torch.cat(branches, dim=1)
        return self.fc_out(x.flatten(1))


def dl_model() -> nn.Module:
    return PoolReshapeBranchNet()
