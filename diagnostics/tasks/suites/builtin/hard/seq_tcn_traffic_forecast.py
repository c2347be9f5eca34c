import torch.nn as nn
import torch.nn.functional as F


class TemporalBlock(nn.Module):
    def __init__(self, channels, dilation):
        super().__init__()
        self.left_pad = dilation
        self.conv1 = nn.Conv1d(channels, channels, kernel_size=2, dilation=dilation)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size=2, dilation=dilation)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        out = self.dropout(self.relu(self.conv1(F.pad(x, (self.left_pad, 0)))))
        out = self.dropout(self.relu(self.conv2(F.pad(out, (self.left_pad, 0)))))
        return out + x


class TrafficTCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_proj = nn.Conv1d(207, 64, kernel_size=1)
        self.blocks = nn.Sequential(
            TemporalBlock(64, dilation=1),
            TemporalBlock(64, dilation=2),
            TemporalBlock(64, dilation=4),
        )
        self.head = nn.Linear(64, 2484)

    def forward(self, x):
        x = self.input_proj(x.transpose(1, 2))
        x = self.blocks(x)
        last = x[:, :, -1]
        return self.head(last).view(-1, 12, 207)


def dl_model() -> nn.Module:
    return TrafficTCN()
