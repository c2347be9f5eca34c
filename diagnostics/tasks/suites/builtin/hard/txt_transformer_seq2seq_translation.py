import math

import torch
import torch.nn as nn


class TranslationTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding = nn.Embedding(8000, 128)
        self.position_embedding = nn.Embedding(64, 128)
        self.transformer = nn.Transformer(
            d_model=128,
            nhead=4,
            num_encoder_layers=2,
            num_decoder_layers=2,
            dim_feedforward=256,
            batch_first=True,
        )
        self.generator = nn.Linear(128, 8000)

    def embed(self, token_ids):
        positions = torch.arange(token_ids.size(1), device=token_ids.device)
        scaled = self.token_embedding(token_ids) * math.sqrt(128)
        return scaled + self.position_embedding(positions)

    def forward(self, source, target):
        causal_mask = nn.Transformer.generate_square_subsequent_mask(
            target.size(1), device=target.device
        )
        decoded = self.transformer(
            self.embed(source),
            self.embed(target),
            tgt_mask=causal_mask,
            tgt_is_causal=True,
        )
        return self.generator(decoded)


def dl_model() -> nn.Module:
    return TranslationTransformer()
