import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(8000, 256)
        self.lstm = nn.LSTM(256, 512, num_layers=2, dropout=0.3, batch_first=True)

    def forward(self, source):
        _, (hidden, cell) = self.lstm(self.embedding(source))
        return hidden, cell


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(6000, 256)
        self.lstm = nn.LSTM(256, 512, num_layers=2, dropout=0.3, batch_first=True)
        self.output = nn.Linear(512, 6000)

    def forward(self, target, hidden, cell):
        outputs, _ = self.lstm(self.embedding(target), (hidden, cell))
        return self.output(outputs)


class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()

    def forward(self, source, target):
        hidden, cell = self.encoder(source)
        return self.decoder(target, hidden, cell)


def dl_model() -> nn.Module:
    return Seq2Seq()
