import torch
import torch.nn as nn


class DownUpNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_in = nn.Conv2d(1, 32, kernel_size=3, padding=1)
        self.down = nn.Conv2d(32, 64, kernel_size=3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(64, 32, kernel_size=2, stride=2)
        self.reduce = nn.Conv2d(32, 32, kernel_size=3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(1568, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = torch.relu(self.conv_in(x))
        y = torch.relu(self.down(skip))
        y = self.up(y) + skip
        y = self.pool(torch.relu(self.reduce(y)))
        return self.fc(torch.flatten(y, 1))


def dl_model() -> nn.Module:
    return DownUpNet()
