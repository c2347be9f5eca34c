import torch
import torch.nn as nn


class LesionClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.image_branch = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.meta_branch = nn.Sequential(
            nn.Linear(10, 32),
            nn.ReLU(),
        )
        self.head = nn.Sequential(
            nn.Linear(96, 64),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(64, 7),
        )

    def forward(self, image, metadata):
        image_features = self.image_branch(image)
        meta_features = self.meta_branch(metadata)
        fused = torch.cat([image_features, meta_features], dim=1)
        return self.head(fused)


def dl_model() -> nn.Module:
    return LesionClassifier()
