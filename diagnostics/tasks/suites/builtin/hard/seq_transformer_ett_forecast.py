import torch
import torch.nn as nn


class TransformerForecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_embedding = nn.Linear(7, 64)
        self.positional = nn.Parameter(torch.zeros(1, 96, 64))
        layer = nn.TransformerEncoderLayer(
            d_model=64, nhead=4, dim_feedforward=128, dropout=0.1, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=3)
        self.flatten = nn.Flatten()
        self.projection = nn.Linear(6144, 168)

    def forward(self, x):
        x = self.input_embedding(x) + self.positional
        x = self.encoder(x)
        out = self.projection(self.flatten(x))
        return out.view(-1, 24, 7)


def dl_model() -> nn.Module:
    return TransformerForecaster()
