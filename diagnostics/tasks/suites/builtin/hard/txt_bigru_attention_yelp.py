import torch
import torch.nn as nn


class YelpRatingModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(25000, 128, padding_idx=0)
        self.embed_dropout = nn.Dropout(0.2)
        self.gru = nn.GRU(128, 96, batch_first=True, bidirectional=True)
        self.attention = nn.MultiheadAttention(embed_dim=192, num_heads=4, batch_first=True)
        self.norm = nn.LayerNorm(192)
        self.head = nn.Sequential(
            nn.Linear(384, 64),
            nn.ReLU(),
            nn.Linear(64, 5),
        )

    def forward(self, token_ids):
        x = self.embed_dropout(self.embedding(token_ids))
        states, _ = self.gru(x)
        attended, _ = self.attention(states, states, states)
        states = self.norm(states + attended)
        max_pool = states.max(dim=1)[0]
        mean_pool = states.mean(dim=1)
        return self.head(torch.cat([max_pool, mean_pool], dim=1))


def dl_model() -> nn.Module:
    return YelpRatingModel()
