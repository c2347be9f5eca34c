import torch
import torch.nn as nn


class NewsgroupTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding = nn.Embedding(30000, 64)
        self.position_embedding = nn.Embedding(128, 64)
        encoder_layer = nn.TransformerEncoderLayer(
            d_model=64, nhead=4, dim_feedforward=128, dropout=0.1, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(encoder_layer, num_layers=2)
        self.classifier = nn.Linear(64, 20)

    def forward(self, token_ids):
        positions = torch.arange(token_ids.size(1), device=token_ids.device)
        x = self.token_embedding(token_ids) + self.position_embedding(positions)
        x = self.encoder(x)
        return self.classifier(x.mean(dim=1))


def dl_model() -> nn.Module:
    return NewsgroupTransformer()
