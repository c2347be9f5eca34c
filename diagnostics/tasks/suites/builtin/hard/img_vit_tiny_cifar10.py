import torch
import torch.nn as nn


class TinyViT(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, 96, kernel_size=4, stride=4)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 96))
        self.pos_embed = nn.Parameter(torch.zeros(1, 65, 96))
        layer = nn.TransformerEncoderLayer(
            d_model=96, nhead=4, dim_feedforward=192, dropout=0.1, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=4, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(96)
        self.head = nn.Linear(96, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        patches = self.patch_embed(x).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        tokens = torch.cat([cls, patches], dim=1) + self.pos_embed
        tokens = self.encoder(tokens)
        return self.head(self.norm(tokens[:, 0]))


def dl_model() -> nn.Module:
    return TinyViT()
