import torch.nn as nn


def conv_block(in_channels, out_channels):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class FaceMultiTaskNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(
            conv_block(3, 32),
            conv_block(32, 64),
            conv_block(64, 128),
            conv_block(128, 256),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(0.3),
        )
        self.age_head = nn.Sequential(nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 1))
        self.gender_head = nn.Linear(256, 2)
        self.ethnicity_head = nn.Sequential(nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 5))

    def forward(self, faces):
        features = self.trunk(faces)
        age = self.age_head(features)
        gender = self.gender_head(features)
        ethnicity = self.ethnicity_head(features)
        return age, gender, ethnicity


def dl_model() -> nn.Module:
    return FaceMultiTaskNet()
