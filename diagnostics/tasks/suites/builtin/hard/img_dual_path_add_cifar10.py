import torch
import torch.nn as nn


class DualPathNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.reduce = nn.Conv2d(in_channels=3, out_channels=32, kernel_size=1)
        self.main_1x1 = nn.Conv2d(in_channels=32, out_channels=32, kernel_size=1)
        self.main_3x3 = nn.Conv2d(in_channels=32, out_channels=32, kernel_size=3, padding=1)
        self.side = nn.Conv2d(in_channels=3, out_channels=64, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(kernel_size=2)
        self.fc1 = nn.Linear(in_features=64 * 16 * 16, out_features=128)
        self.fc2 = nn.Linear(in_features=128, out_features=10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        reduced = torch.relu(self.reduce(x))
        main = torch.cat(
            [torch.relu(self.main_1x1(reduced)), torch.relu(self.main_3x3(reduced))], dim=1
        )
        side = self.side(x)
        out = self.pool(main + side)
        out = torch.relu(self.fc1(torch.flatten(out, 1)))
        return self.fc2(out)


def dl_model() -> nn.Module:
    return DualPathNet()
