import torch
import torch.nn as nn


class ShuffleUnit(nn.Module):
    def __init__(self):
        super().__init__()
        self.groups = 3
        self.compress = nn.Conv2d(48, 12, kernel_size=1, groups=3, bias=False)
        self.bn1 = nn.BatchNorm2d(12)
        self.depthwise = nn.Conv2d(12, 12, kernel_size=3, padding=1, groups=12, bias=False)
        self.bn2 = nn.BatchNorm2d(12)
        self.expand = nn.Conv2d(12, 48, kernel_size=1, groups=3, bias=False)
        self.bn3 = nn.BatchNorm2d(48)

    def shuffle(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        x = x.reshape(b, self.groups, c // self.groups, h, w)
        return x.permute(0, 2, 1, 3, 4).reshape(b, c, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.compress(x)))
        out = self.shuffle(out)
        out = self.bn2(self.depthwise(out))
        out = self.bn3(self.expand(out))
        return torch.relu(out + x)


class ShuffleNetV1Mnist(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, 48, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(48),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.units = nn.Sequential(ShuffleUnit(), ShuffleUnit())
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(48 * 7 * 7, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.units(self.stem(x)))
        return self.fc(torch.flatten(x, 1))


def dl_model() -> nn.Module:
    return ShuffleNetV1Mnist()
