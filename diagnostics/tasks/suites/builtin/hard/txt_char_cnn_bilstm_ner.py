import torch
import torch.nn as nn


class CharEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(80, 30)
        self.conv = nn.Conv1d(in_channels=30, out_channels=50, kernel_size=3, padding=1)

    def forward(self, char_ids):
        batch, words, chars = char_ids.shape
        x = self.embedding(char_ids.view(batch * words, chars))
        x = self.conv(x.transpose(1, 2))
        x = x.max(dim=2)[0]
        return x.view(batch, words, 50)


class NerTagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.word_embedding = nn.Embedding(20000, 100)
        self.char_encoder = CharEncoder()
        self.lstm = nn.LSTM(150, 128, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(0.5)
        self.classifier = nn.Linear(256, 9)

    def forward(self, word_ids, char_ids):
        words = self.word_embedding(word_ids)
        chars = self.char_encoder(char_ids)
        features = torch.cat([words, chars], dim=2)
        outputs, _ = self.lstm(features)
        return self.classifier(self.dropout(outputs))


def dl_model() -> nn.Module:
    return NerTagger()
