import torch
import torch.nn as nn


class DilatedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, padding=1)
        self.dilated2 = nn.Conv2d(32, 32, kernel_size=3, padding=2, dilation=2)
        self.dilated4 = nn.Conv2d(32, 64, kernel_size=3, padding=4, dilation=4)
        self.pool = nn.MaxPool2d(kernel_size=2)
        self.down = nn.Conv2d(64, 64, kernel_size=3, stride=2, padding=1)
        self.fc = nn.Linear(64 * 7 * 7, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv1(x))
        x = torch.relu(self.dilated2(x))
        x = torch.relu(self.dilated4(x))
        x = self.pool(x)
        x = torch.relu(self.down(x))
        return self.fc(x.flatten(1))


def dl_model() -> nn.Module:
    return DilatedNet()
