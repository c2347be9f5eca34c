import torch
import torch.nn as nn


class StridedConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.down1 = nn.Conv2d(1, 32, kernel_size=3, stride=2, padding=1)
        self.down2 = nn.Conv2d(32, 64, kernel_size=3, stride=2, padding=1)
        self.down3 = nn.Conv2d(64, 128, kernel_size=3, stride=2, padding=1)
        self.act = nn.ReLU()
        self.gap = nn.AdaptiveAvgPool2d(output_size=1)
        self.head = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.down1(x))
        x = self.act(self.down2(x))
        x = self.act(self.down3(x))
        x = torch.flatten(self.gap(x), 1)
        return self.head(x)


def dl_model() -> nn.Module:
    return StridedConvNet()
