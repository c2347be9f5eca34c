import torch
import torch.nn as nn


class ConditionalGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.label_embedding = nn.Embedding(10, 50)
        self.project = nn.Sequential(
            nn.Linear(150, 6272),
            nn.BatchNorm1d(6272),
            nn.ReLU(True),
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(128, 64, kernel_size=4, stride=2, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(True),
            nn.ConvTranspose2d(64, 1, kernel_size=4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, noise, labels):
        conditioned = torch.cat([noise, self.label_embedding(labels)], dim=1)
        x = self.project(conditioned).view(-1, 128, 7, 7)
        return self.upsample(x)


def dl_model() -> nn.Module:
    return ConditionalGenerator()
