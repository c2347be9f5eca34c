import torch
import torch.nn as nn


class SignatureEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, kernel_size=3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, kernel_size=3, padding=1),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.embed = nn.Linear(128, 128)

    def forward(self, x):
        return self.embed(self.conv(x))


class SiameseVerifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = SignatureEncoder()
        self.head = nn.Sequential(
            nn.Linear(256, 64),
            nn.ReLU(),
            nn.Linear(64, 1),
        )

    def forward(self, signature_a, signature_b):
        emb_a = self.encoder(signature_a)
        emb_b = self.encoder(signature_b)
        combined = torch.cat([torch.abs(emb_a - emb_b), emb_a * emb_b], dim=1)
        return self.head(combined)


def dl_model() -> nn.Module:
    return SiameseVerifier()
