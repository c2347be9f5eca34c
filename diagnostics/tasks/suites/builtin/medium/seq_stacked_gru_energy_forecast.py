import torch.nn as nn


class EnergyForecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(
            input_size=7, hidden_size=128, num_layers=2, dropout=0.2, batch_first=True
        )
        self.head = nn.Sequential(
            nn.Linear(128, 64),
            nn.ReLU(),
            nn.Linear(64, 24),
        )

    def forward(self, x):
        outputs, _ = self.gru(x)
        return self.head(outputs[:, -1, :])


def dl_model() -> nn.Module:
    return EnergyForecaster()
