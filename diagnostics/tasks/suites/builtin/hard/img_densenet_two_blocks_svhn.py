import torch
import torch.nn as nn


class DenseLayer(nn.Module):
    def __init__(self, in_channels: int, growth: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, 4 * growth, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, kernel_size=3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(torch.relu(self.bn1(x)))
        return self.conv2(torch.relu(self.bn2(out)))


class DenseBlock(nn.Module):
    def __init__(self, in_channels: int, growth: int, num_layers: int):
        super().__init__()
        self.layers = nn.ModuleList(
            [DenseLayer(in_channels + i * growth, growth) for i in range(num_layers)]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.layers:
            features.append(layer(torch.cat(features, dim=1)))
        return torch.cat(features, dim=1)


class Transition(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_channels)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv(torch.relu(self.bn(x))))


class DenseNetBC(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 24, kernel_size=3, padding=1, bias=False)
        self.block1 = DenseBlock(24, growth=12, num_layers=4)
        self.trans1 = Transition(72, 36)
        self.block2 = DenseBlock(36, growth=12, num_layers=4)
        self.trans2 = Transition(84, 42)
        self.bn = nn.BatchNorm2d(42)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(42, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.trans1(self.block1(self.stem(x)))
        x = self.trans2(self.block2(x))
        x = torch.relu(self.bn(x))
        return self.fc(self.gap(x).flatten(1))


def dl_model() -> nn.Module:
    return DenseNetBC()
