import torch
import torch.nn as nn


class FactorisedConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1a = nn.Conv2d(1, 32, kernel_size=(1, 3), padding=(0, 1))
        self.conv1b = nn.Conv2d(32, 32, kernel_size=(3, 1), padding=(1, 0))
        self.conv2a = nn.Conv2d(32, 64, kernel_size=(1, 3), padding=(0, 1))
        self.conv2b = nn.Conv2d(64, 64, kernel_size=(3, 1), padding=(1, 0))
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv1b(torch.relu(self.conv1a(x))))
        x = self.pool(x)
        x = torch.relu(self.conv2b(torch.relu(self.conv2a(x))))
        x = self.pool(x)
        x = torch.relu(self.fc1(x.flatten(1)))
        return self.fc2(x)


def dl_model() -> nn.Module:
    return FactorisedConvNet()
