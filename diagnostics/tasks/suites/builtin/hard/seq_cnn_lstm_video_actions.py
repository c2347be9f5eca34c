import torch.nn as nn


class FrameEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, kernel_size=3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, kernel_size=3, padding=1),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )

    def forward(self, frames):
        return self.features(frames)


class VideoActionModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = FrameEncoder()
        self.lstm = nn.LSTM(input_size=128, hidden_size=256, batch_first=True)
        self.dropout = nn.Dropout(0.5)
        self.classifier = nn.Linear(256, 10)

    def forward(self, clips):
        batch, steps, channels, height, width = clips.shape
        frames = clips.reshape(batch * steps, channels, height, width)
        features = self.encoder(frames).view(batch, steps, 128)
        _, (hidden, _) = self.lstm(features)
        return self.classifier(self.dropout(hidden[-1]))


def dl_model() -> nn.Module:
    return VideoActionModel()
