import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm(256)
        self.expand = nn.Linear(256, 512)
        self.act = nn.GELU()
        self.dropout = nn.Dropout(0.1)
        self.project = nn.Linear(512, 256)

    def forward(self, x):
        residual = x
        x = self.norm(x)
        x = self.dropout(self.act(self.expand(x)))
        x = self.project(x)
        return x + residual


class CoverTypeResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_proj = nn.Linear(54, 256)
        self.blocks = nn.Sequential(ResidualBlock(), ResidualBlock(), ResidualBlock())
        self.final_norm = nn.LayerNorm(256)
        self.classifier = nn.Linear(256, 7)

    def forward(self, x):
        x = self.input_proj(x)
        x = self.blocks(x)
        return self.classifier(self.final_norm(x))


def dl_model() -> nn.Module:
    return CoverTypeResNet()
