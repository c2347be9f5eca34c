import torch.nn as nn


class PosTagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(12000, 100, padding_idx=0)
        self.gru = nn.GRU(100, 128, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(0.25)
        self.tag_head = nn.Linear(256, 45)

    def forward(self, word_ids):
        embedded = self.embedding(word_ids)
        outputs, _ = self.gru(embedded)
        return self.tag_head(self.dropout(outputs))


def dl_model() -> nn.Module:
    return PosTagger()
