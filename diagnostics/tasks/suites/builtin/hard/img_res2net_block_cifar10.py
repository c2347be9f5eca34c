import torch
import torch.nn as nn


def conv3x3_bn_relu(channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(inplace=True),
    )


class Res2NetBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_in = nn.Sequential(
            nn.Conv2d(64, 64, kernel_size=1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
        )
        self.k2 = conv3x3_bn_relu(16)
        self.k3 = conv3x3_bn_relu(16)
        self.k4 = conv3x3_bn_relu(16)
        self.conv_out = nn.Sequential(
            nn.Conv2d(64, 64, kernel_size=1, bias=False),
            nn.BatchNorm2d(64),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2, x3, x4 = torch.split(self.conv_in(x), 16, dim=1)
        y2 = self.k2(x2)
        y3 = self.k3(x3 + y2)
        y4 = self.k4(x4 + y3)
        out = self.conv_out(torch.cat([x1, y2, y3, y4], dim=1))
        return torch.relu(out + x)


class Res2Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
        )
        self.block = Res2NetBlock()
        self.pool = nn.MaxPool2d(2)
        self.down = nn.Sequential(
            nn.Conv2d(64, 128, kernel_size=3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
        )
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.block(self.stem(x)))
        x = self.down(x)
        return self.fc(self.gap(x).flatten(1))


def dl_model() -> nn.Module:
    return Res2Net()
