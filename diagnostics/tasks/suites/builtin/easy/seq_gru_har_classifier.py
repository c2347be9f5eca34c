import torch.nn as nn


class ActivityGRU(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(input_size=9, hidden_size=64, batch_first=True)
        self.dropout = nn.Dropout(0.2)
        self.classifier = nn.Linear(64, 6)

    def forward(self, x):
        _, hidden = self.gru(x)
        features = self.dropout(hidden[-1])
        return self.classifier(features)


def dl_model() -> nn.Module:
    return ActivityGRU()
