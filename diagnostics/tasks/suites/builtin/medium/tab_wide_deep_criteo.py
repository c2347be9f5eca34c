import torch
import torch.nn as nn


class WideAndDeep(nn.Module):
    def __init__(self):
        super().__init__()
        self.wide = nn.Linear(13, 1)
        self.embedding = nn.Embedding(1000, 8)
        self.deep = nn.Sequential(
            nn.Linear(221, 128),
            nn.ReLU(),
            nn.Linear(128, 64),
            nn.ReLU(),
            nn.Linear(64, 1),
        )

    def forward(self, dense, categorical):
        wide_logit = self.wide(dense)
        embedded = self.embedding(categorical).flatten(start_dim=1)
        deep_input = torch.cat([embedded, dense], dim=1)
        deep_logit = self.deep(deep_input)
        return wide_logit + deep_logit


def dl_model() -> nn.Module:
    return WideAndDeep()
