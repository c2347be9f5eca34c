import torch
import torch.nn as nn


def conv_bn_relu(
    in_channels: int, out_channels: int, kernel_size: int, stride: int = 1
) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size=kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            bias=False,
        ),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class SEInceptionBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.path1 = conv_bn_relu(64, 32, kernel_size=1)
        self.path2 = nn.Sequential(
            conv_bn_relu(64, 32, kernel_size=1),
            conv_bn_relu(32, 64, kernel_size=3),
        )
        self.path3 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1),
            conv_bn_relu(64, 32, kernel_size=1),
        )
        self.se_reduce = nn.Linear(128, 32)
        self.se_expand = nn.Linear(32, 128)
        self.projection = nn.Conv2d(64, 128, kernel_size=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mixed = torch.cat([self.path1(x), self.path2(x), self.path3(x)], dim=1)
        weights = torch.relu(self.se_reduce(mixed.mean(dim=(2, 3))))
        weights = torch.sigmoid(self.se_expand(weights))
        mixed = mixed * weights.view(-1, 128, 1, 1)
        return mixed + self.projection(x)


class SEInceptionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn_relu(3, 64, kernel_size=3)
        self.block = SEInceptionBlock()
        self.pool = nn.MaxPool2d(2)
        self.down = conv_bn_relu(128, 256, kernel_size=3, stride=2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(256, 100)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.block(self.stem(x)))
        x = self.gap(self.down(x)).flatten(1)
        return self.fc(self.dropout(x))


def dl_model() -> nn.Module:
    return SEInceptionNet()
