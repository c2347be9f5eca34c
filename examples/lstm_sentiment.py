"""Sentiment classifier over token ids (vocabulary 20,000, sequences of 50 tokens).

- `nn.LSTM` gets input_size=128 but the embedding produces 100 features per token:
  Input Tensor Shape Mismatch (verified fix: input_size=100)
- `inplce` is a misspelled keyword of `nn.Dropout`: Unexpected API Argument (fix: inplace)
"""
import torch
import torch.nn as nn

# deepeval: input=(1, 50) int64


class SentimentLSTM(nn.Module):
    def __init__(self, vocab_size=20000, embed_dim=100, hidden=64):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(128, hidden, batch_first=True)
        self.dropout = nn.Dropout(0.3, inplce=False)
        self.out = nn.Linear(hidden, 1)

    def forward(self, tokens):
        x = self.embedding(tokens)
        _, (h, _) = self.lstm(x)
        return torch.sigmoid(self.out(self.dropout(h[-1])))


def dl_model():
    return SentimentLSTM()
