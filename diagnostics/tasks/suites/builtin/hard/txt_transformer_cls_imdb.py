import math

import torch
import torch.nn as nn


class SinusoidalPositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe.unsqueeze(0))

    def forward(self, x):
        return x + self.pe[:, : x.size(1)]


class ReviewTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(20000, 128)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 128))
        self.positional = SinusoidalPositionalEncoding(128, 512)
        self.dropout = nn.Dropout(0.1)
        layer = nn.TransformerEncoderLayer(
            d_model=128, nhead=8, dim_feedforward=256, activation="gelu", batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=3)
        self.norm = nn.LayerNorm(128)
        self.classifier = nn.Linear(128, 2)

    def forward(self, token_ids):
        x = self.embedding(token_ids) * math.sqrt(128)
        cls = self.cls_token.expand(x.size(0), -1, -1)
        x = torch.cat([cls, x], dim=1)
        x = self.dropout(self.positional(x))
        x = self.encoder(x)
        return self.classifier(self.norm(x[:, 0]))


def dl_model() -> nn.Module:
    return ReviewTransformer()
