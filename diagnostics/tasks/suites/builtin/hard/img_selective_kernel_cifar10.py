import torch
import torch.nn as nn


class SelectiveKernel(nn.Module):
    def __init__(self, channels: int, reduced: int):
        super().__init__()
        self.path3 = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )
        self.path_dilated = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size=3, padding=2, dilation=2, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )
        self.squeeze = nn.Linear(channels, reduced)
        self.select3 = nn.Linear(reduced, channels)
        self.select_dilated = nn.Linear(reduced, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u3 = self.path3(x)
        ud = self.path_dilated(x)
        s = (u3 + ud).mean(dim=(2, 3))
        z = torch.relu(self.squeeze(s))
        scores = torch.stack([self.select3(z), self.select_dilated(z)], dim=1)
        weights = torch.softmax(scores, dim=1)
        w3 = weights[:, 0].unsqueeze(-1).unsqueeze(-1)
        wd = weights[:, 1].unsqueeze(-1).unsqueeze(-1)
        return u3 * w3 + ud * wd


class SKNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
        )
        self.sk = SelectiveKernel(64, 32)
        self.pool = nn.MaxPool2d(2)
        self.down = nn.Sequential(
            nn.Conv2d(64, 128, kernel_size=3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
        )
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.sk(self.stem(x)))
        x = self.down(x)
        return self.fc(self.gap(x).flatten(1))


def dl_model() -> nn.Module:
    return SKNet()
