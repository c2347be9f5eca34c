import torch
import torch.nn as nn


class DownBlock(nn.Module):
    def __init__(self, in_channels, out_channels, normalize=True):
        super().__init__()
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1)]
        if normalize:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.LeakyReLU(0.2, inplace=True))
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        return self.block(x)


class UpBlock(nn.Module):
    def __init__(self, in_channels, out_channels, dropout=0.0):
        super().__init__()
        layers = [
            nn.ConvTranspose2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        ]
        if dropout:
            layers.append(nn.Dropout(dropout))
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        return self.block(x)


class Pix2PixGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.down1 = DownBlock(3, 64, normalize=False)
        self.down2 = DownBlock(64, 128)
        self.down3 = DownBlock(128, 256)
        self.down4 = DownBlock(256, 256)
        self.down5 = DownBlock(256, 256)
        self.bottleneck = nn.Sequential(
            nn.Conv2d(256, 256, kernel_size=4, stride=2, padding=1),
            nn.ReLU(inplace=True),
        )
        self.up1 = UpBlock(256, 256, dropout=0.5)
        self.up2 = UpBlock(512, 256, dropout=0.5)
        self.up3 = UpBlock(512, 256)
        self.up4 = UpBlock(512, 128)
        self.up5 = UpBlock(256, 64)
        self.final = nn.Sequential(
            nn.ConvTranspose2d(128, 3, kernel_size=4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, x):
        d1 = self.down1(x)
        d2 = self.down2(d1)
        d3 = self.down3(d2)
        d4 = self.down4(d3)
        d5 = self.down5(d4)
        b = self.bottleneck(d5)
        u1 = torch.cat([self.up1(b), d5], dim=1)
        u2 = torch.cat([self.up2(u1), d4], dim=1)
        u3 = torch.cat([self.up3(u2), d3], dim=1)
        u4 = torch.cat([self.up4(u3), d2], dim=1)
        u5 = torch.cat([self.up5(u4), d1], dim=1)
        return self.final(u5)


def dl_model() -> nn.Module:
    return Pix2PixGenerator()
