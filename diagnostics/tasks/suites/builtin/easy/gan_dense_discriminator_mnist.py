import torch.nn as nn


class DigitDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 256)
        self.out = nn.Linear(256, 1)
        self.act = nn.LeakyReLU(0.2)
        self.dropout = nn.Dropout(0.3)

    def forward(self, images):
        x = self.flatten(images)
        x = self.dropout(self.act(self.fc1(x)))
        x = self.dropout(self.act(self.fc2(x)))
        return self.out(x)


def dl_model() -> nn.Module:
    return DigitDiscriminator()
