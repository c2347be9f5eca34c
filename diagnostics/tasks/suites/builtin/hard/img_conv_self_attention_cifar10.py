import torch
import torch.nn as nn


class ConvAttentionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stage1 = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.stage2 = nn.Sequential(
            nn.Conv2d(64, 128, kernel_size=3, padding=1),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.pos_embedding = nn.Parameter(torch.zeros(1, 64, 128))
        self.attention = nn.MultiheadAttention(embed_dim=128, num_heads=4, batch_first=True)
        self.norm = nn.LayerNorm(128)
        self.fc = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stage2(self.stage1(x))
        tokens = x.flatten(2).transpose(1, 2) + self.pos_embedding
        attended, _ = self.attention(tokens, tokens, tokens)
        tokens = self.norm(tokens + attended)
        return self.fc(tokens.mean(dim=1))


def dl_model() -> nn.Module:
    return ConvAttentionNet()
