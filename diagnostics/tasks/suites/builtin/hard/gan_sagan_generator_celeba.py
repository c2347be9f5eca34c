import torch
import torch.nn as nn


class SelfAttention2d(nn.Module):
    def __init__(self, channels, key_channels):
        super().__init__()
        self.query = nn.Conv2d(channels, key_channels, kernel_size=1)
        self.key = nn.Conv2d(channels, key_channels, kernel_size=1)
        self.value = nn.Conv2d(channels, channels, kernel_size=1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        batch, channels, height, width = x.shape
        q = self.query(x).flatten(2).transpose(1, 2)
        k = self.key(x).flatten(2)
        v = self.value(x).flatten(2)
        attention = torch.softmax(torch.bmm(q, k), dim=-1)
        out = torch.bmm(v, attention.transpose(1, 2))
        out = out.view(batch, channels, height, width)
        return x + self.gamma * out


class SAGANGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.project = nn.Linear(128, 8192)
        self.project_bn = nn.BatchNorm2d(512)
        self.relu = nn.ReLU(inplace=True)
        self.up1 = nn.Sequential(
            nn.ConvTranspose2d(512, 256, kernel_size=4, stride=2, padding=1),
            nn.BatchNorm2d(256),
            nn.ReLU(inplace=True),
        )
        self.up2 = nn.Sequential(
            nn.ConvTranspose2d(256, 128, kernel_size=4, stride=2, padding=1),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
        )
        self.up3 = nn.Sequential(
            nn.ConvTranspose2d(128, 64, kernel_size=4, stride=2, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
        )
        self.attention = SelfAttention2d(64, 8)
        self.to_rgb = nn.Sequential(
            nn.ConvTranspose2d(64, 3, kernel_size=4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, z):
        x = self.project(z).view(-1, 512, 4, 4)
        x = self.relu(self.project_bn(x))
        x = self.up3(self.up2(self.up1(x)))
        x = self.attention(x)
        return self.to_rgb(x)


def dl_model() -> nn.Module:
    return SAGANGenerator()
