import torch
import torch.nn as nn


def conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class ConvTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            conv_bn_relu(3, 32),
            conv_bn_relu(32, 64),
            conv_bn_relu(64, 128),
        )
        self.pos_embedding = nn.Parameter(torch.zeros(1, 144, 128))
        encoder_layer = nn.TransformerEncoderLayer(
            d_model=128, nhead=4, dim_feedforward=256, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(
            encoder_layer, num_layers=2, enable_nested_tensor=False
        )
        self.norm = nn.LayerNorm(128)
        self.fc = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.stem(x).flatten(2).transpose(1, 2) + self.pos_embedding
        tokens = self.norm(self.encoder(tokens))
        return self.fc(tokens.mean(dim=1))


def dl_model() -> nn.Module:
    return ConvTransformer()
