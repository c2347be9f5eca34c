import torch
import torch.nn as nn


class MultiScalePoolNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(in_channels=1, out_channels=32, kernel_size=3, padding=1)
        self.pool1 = nn.AdaptiveAvgPool2d(output_size=1)
        self.pool2 = nn.AdaptiveAvgPool2d(output_size=2)
        self.pool4 = nn.AdaptiveAvgPool2d(output_size=4)
        self.fc1 = nn.Linear(in_features=672, out_features=128)
        self.fc2 = nn.Linear(in_features=128, out_features=10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(x))
        s1 = torch.flatten(self.pool1(x), 1)
        s2 = torch.flatten(self.pool2(x), 1)
        s4 = torch.flatten(self.pool4(x), 1)
        x = torch.cat((s1, s2, s4), dim=1)
        x = torch.relu(self.fc1(x))
        return self.fc2(x)


def dl_model() -> nn.Module:
    return MultiScalePoolNet()
