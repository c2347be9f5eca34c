import torch.nn as nn


class LSTMAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder_lstm = nn.LSTM(4, 64, batch_first=True)
        self.to_code = nn.Linear(64, 16)
        self.from_code = nn.Linear(16, 64)
        self.decoder_lstm = nn.LSTM(64, 64, batch_first=True)
        self.output_layer = nn.Linear(64, 4)

    def forward(self, x):
        steps = x.size(1)
        _, (hidden, _) = self.encoder_lstm(x)
        code = self.to_code(hidden[-1])
        expanded = self.from_code(code)
        repeated = expanded.unsqueeze(1).repeat(1, steps, 1)
        decoded, _ = self.decoder_lstm(repeated)
        return self.output_layer(decoded)


def dl_model() -> nn.Module:
    return LSTMAutoencoder()
