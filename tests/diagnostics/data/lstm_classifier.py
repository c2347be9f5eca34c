"""A correct bidirectional LSTM sentiment classifier."""
import torch
from torch import nn


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size=10000, embed_dim=100, hidden=128, num_classes=2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden, num_layers=2, batch_first=True,
                            bidirectional=True, dropout=0.3)
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(hidden * 2, num_classes)

    def forward(self, x):
        emb = self.embed(x)
        out, (h, c) = self.lstm(emb)
        h = torch.cat([h[-2], h[-1]], dim=1)
        return self.fc(self.dropout(h))


def dl_model():
    return LSTMClassifier()
