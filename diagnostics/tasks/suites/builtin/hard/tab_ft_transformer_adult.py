import torch
import torch.nn as nn


class FeatureTokenizer(nn.Module):
    def __init__(self):
        super().__init__()
        self.numeric_weight = nn.Parameter(torch.randn(6, 32) * 0.02)
        self.numeric_bias = nn.Parameter(torch.zeros(6, 32))
        self.category_embedding = nn.Embedding(400, 32)
        self.register_buffer("category_offsets", torch.arange(8) * 50)

    def tokenize(self, numeric, categorical):
        numeric_tokens = numeric.unsqueeze(-1) * self.numeric_weight + self.numeric_bias
        category_tokens = self.category_embedding(categorical + self.category_offsets)
        return torch.cat([numeric_tokens, category_tokens], dim=1)


class FTTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.tokenizer = FeatureTokenizer()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 32))
        layer = nn.TransformerEncoderLayer(
            d_model=32, nhead=4, dim_feedforward=64, dropout=0.1, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=3)
        self.head = nn.Sequential(
            nn.LayerNorm(32),
            nn.ReLU(),
            nn.Linear(32, 2),
        )

    def forward(self, numeric, categorical):
        tokens = self.tokenizer.tokenize(numeric, categorical)
        cls = self.cls_token.expand(tokens.size(0), -1, -1)
        x = self.encoder(torch.cat([cls, tokens], dim=1))
        return self.head(x[:, 0])


def dl_model() -> nn.Module:
    return FTTransformer()
