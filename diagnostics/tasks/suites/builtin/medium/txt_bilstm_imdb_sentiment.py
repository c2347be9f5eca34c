import torch
import torch.nn as nn


class ReviewSentimentModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10000, 128, padding_idx=0)
        self.lstm = nn.LSTM(input_size=128, hidden_size=64, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(128, 1)

    def forward(self, token_ids):
        embedded = self.embedding(token_ids)
        _, (hidden, _) = self.lstm(embedded)
        forward_last = hidden[-2]
        backward_last = hidden[-1]
        combined = torch.cat([forward_last, backward_last], dim=1)
        return self.fc(self.dropout(combined))


def dl_model() -> nn.Module:
    return ReviewSentimentModel()
