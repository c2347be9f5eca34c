import torch.nn as nn


class CharLanguageModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(65, 64)
        self.gru = nn.GRU(64, 256, num_layers=2, dropout=0.2, batch_first=True)
        self.decoder = nn.Linear(256, 65)

    def forward(self, char_ids):
        x = self.embedding(char_ids)
        outputs, _ = self.gru(x)
        return self.decoder(outputs)


def dl_model() -> nn.Module:
    return CharLanguageModel()
