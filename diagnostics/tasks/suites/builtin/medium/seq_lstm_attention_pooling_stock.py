import torch
import torch.nn as nn


class AttentionPooling(nn.Module):
    def __init__(self):
        super().__init__()
        self.scorer = nn.Sequential(
            nn.Linear(64, 32),
            nn.Tanh(),
            nn.Linear(32, 1),
        )

    def forward(self, outputs):
        scores = self.scorer(outputs)
        weights = torch.softmax(scores, dim=1)
        return (weights * outputs).sum(dim=1)


class StockReturnModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=5, hidden_size=64, batch_first=True)
        self.attention = AttentionPooling()
        self.head = nn.Linear(64, 1)

    def forward(self, x):
        outputs, _ = self.lstm(x)
        context = self.attention(outputs)
        return self.head(context)


def dl_model() -> nn.Module:
    return StockReturnModel()
