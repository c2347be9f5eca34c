import torch
import torch.nn as nn


class DeepFM(nn.Module):
    def __init__(self):
        super().__init__()
        self.first_order = nn.Embedding(5000, 1)
        self.field_embedding = nn.Embedding(5000, 16)
        self.bias = nn.Parameter(torch.zeros(1))
        self.deep = nn.Sequential(
            nn.Linear(160, 128),
            nn.BatchNorm1d(128),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(128, 64),
            nn.BatchNorm1d(64),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(64, 1),
        )

    def forward(self, field_ids):
        linear_term = self.first_order(field_ids).sum(dim=1)
        embedded = self.field_embedding(field_ids)
        square_of_sum = embedded.sum(dim=1) ** 2
        sum_of_squares = (embedded**2).sum(dim=1)
        fm_term = 0.5 * (square_of_sum - sum_of_squares).sum(dim=1, keepdim=True)
        deep_term = self.deep(embedded.flatten(start_dim=1))
        return linear_term + fm_term + deep_term + self.bias


def dl_model() -> nn.Module:
    return DeepFM()
