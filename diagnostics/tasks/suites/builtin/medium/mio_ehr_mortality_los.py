import torch
import torch.nn as nn


class ICUOutcomeModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.vitals_gru = nn.GRU(input_size=12, hidden_size=64, batch_first=True)
        self.static_mlp = nn.Sequential(nn.Linear(6, 16), nn.ReLU())
        self.shared = nn.Sequential(
            nn.Linear(80, 64),
            nn.ReLU(),
            nn.Dropout(0.2),
        )
        self.mortality_head = nn.Linear(64, 1)
        self.los_head = nn.Linear(64, 1)

    def forward(self, vitals, static):
        _, hidden = self.vitals_gru(vitals)
        static_features = self.static_mlp(static)
        features = self.shared(torch.cat([hidden[-1], static_features], dim=1))
        return self.mortality_head(features), self.los_head(features)


def dl_model() -> nn.Module:
    return ICUOutcomeModel()
