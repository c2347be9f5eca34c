import torch
import torch.nn as nn


class AttentionPool(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.score = nn.Linear(dim, 1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        weights = torch.softmax(self.score(tokens), dim=1)
        return (weights * tokens).sum(dim=1)


class AttentionPoolNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.attention_pool = AttentionPool(64)
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.features(x).flatten(2).transpose(1, 2)
        attended = self.attention_pool(tokens)
        strongest = tokens.amax(dim=1)
        x = torch.cat([attended, strongest], dim=1)
        return self.fc(self.dropout(x))


def dl_model() -> nn.Module:
    return AttentionPoolNet()
