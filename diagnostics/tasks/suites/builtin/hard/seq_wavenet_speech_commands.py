import torch
import torch.nn as nn


class GatedResidualBlock(nn.Module):
    def __init__(self, dilation):
        super().__init__()
        self.filter_conv = nn.Conv1d(32, 32, kernel_size=3, padding=dilation, dilation=dilation)
        self.gate_conv = nn.Conv1d(32, 32, kernel_size=3, padding=dilation, dilation=dilation)
        self.residual_conv = nn.Conv1d(32, 32, kernel_size=1)
        self.skip_conv = nn.Conv1d(32, 64, kernel_size=1)

    def forward(self, x):
        gated = torch.tanh(self.filter_conv(x)) * torch.sigmoid(self.gate_conv(x))
        residual = self.residual_conv(gated) + x
        skip = self.skip_conv(gated)
        return residual, skip


class WaveNetClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.front = nn.Conv1d(1, 32, kernel_size=80, stride=16)
        self.blocks = nn.ModuleList(
            [
                GatedResidualBlock(1),
                GatedResidualBlock(2),
                GatedResidualBlock(4),
                GatedResidualBlock(8),
                GatedResidualBlock(16),
                GatedResidualBlock(32),
            ]
        )
        self.post = nn.Sequential(
            nn.ReLU(),
            nn.Conv1d(64, 64, kernel_size=1),
            nn.ReLU(),
        )
        self.classifier = nn.Linear(64, 35)

    def forward(self, audio):
        x = self.front(audio)
        skip_total = 0
        for block in self.blocks:
            x, skip = block(x)
            skip_total = skip_total + skip
        features = self.post(skip_total).mean(dim=2)
        return self.classifier(features)


def dl_model() -> nn.Module:
    return WaveNetClassifier()
