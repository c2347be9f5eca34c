import torch.nn as nn


class FraudAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(30, 20),
            nn.Tanh(),
            nn.Linear(20, 14),
            nn.ReLU(),
            nn.Linear(14, 8),
            nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.Linear(8, 14),
            nn.ReLU(),
            nn.Linear(14, 20),
            nn.ReLU(),
            nn.Linear(20, 30),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def dl_model() -> nn.Module:
    return FraudAutoencoder()
