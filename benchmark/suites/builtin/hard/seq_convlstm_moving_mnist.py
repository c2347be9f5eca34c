import torch
import torch.nn as nn


class ConvLSTMCell(nn.Module):
    def __init__(self):
        super().__init__()
        self.gates = nn.Conv2d(33, 128, kernel_size=3, padding=1)

    def forward(self, x, state):
        hidden, cell = state
        combined = torch.cat([x, hidden], dim=1)
        i, f, o, g = torch.chunk(self.gates(combined), 4, dim=1)
        i = torch.sigmoid(i)
        f = torch.sigmoid(f)
        o = torch.sigmoid(o)
        g = torch.tanh(g)
        cell = f * cell + i * g
        hidden = o * torch.tanh(cell)
        return hidden, cell


class NextFramePredictor(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = ConvLSTMCell()
        self.to_frame = nn.Conv2d(32, 1, kernel_size=1)

    def forward(self, frames):
        batch, steps, _, height, width = frames.shape
        hidden = frames.new_zeros(batch, 32, height, width)
        cell = frames.new_zeros(batch, 32, height, width)
        for t in range(steps):
            hidden, cell = self.cell(frames[:, t], (hidden, cell))
        return torch.sigmoid(self.to_frame(hidden))


def dl_model() -> nn.Module:
    return NextFramePredictor()
