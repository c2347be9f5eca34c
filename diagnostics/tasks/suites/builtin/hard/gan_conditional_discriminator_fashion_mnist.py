import torch
import torch.nn as nn


class ConditionalDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.label_embedding = nn.Embedding(10, 784)
        self.features = nn.Sequential(
            nn.Conv2d(2, 64, kernel_size=4, stride=2, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(64, 128, kernel_size=4, stride=2, padding=1),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2, inplace=True),
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(6272, 1)

    def forward(self, images, labels):
        label_plane = self.label_embedding(labels).view(-1, 1, 28, 28)
        x = torch.cat([images, label_plane], dim=1)
        x = self.features(x)
        return self.classifier(self.flatten(x))


def dl_model() -> nn.Module:
    return ConditionalDiscriminator()
