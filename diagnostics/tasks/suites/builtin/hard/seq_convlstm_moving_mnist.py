import torch
import torch.nn as nn


class ConvLSTMPredictor(nn.Module):
    def __init__(self):
        super().__init__()
        self.gates = nn.Conv2d(33, 128, kernel_size=3, padding=1)
        self.to_frame = nn.Conv2d(32, 1, kernel_size=1)

    def forward(self, frames):
        batch, steps, _, height, width = frames.shape
        hidden = frames.new_zeros(batch, 32, height, width)
        cell = frames.new_zeros(batch, 32, height, width)
        for t in range(steps):
            combined = torch.cat([frames[:, t], hidden], dim=1)
            i, f, o, g = torch.chunk(self.gates(combined), 4, dim=1)
            cell = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(g)
            hidden = torch.sigmoid(o) * torch.tanh(cell)
        return torch.sigmoid(self.to_frame(hidden))


def dl_model() -> nn.Module:
    return ConvLSTMPredictor()
