"""CIFAR-10 classifier as an assistant might write it: four mistakes the checkers catch.

- `nn.Conv2D` does not exist in PyTorch (it is Keras spelling): Non-Existent API Attribute Access
- `kernal_size` is a misspelled keyword: Unexpected API Argument
- `F` is used but never imported: Missing API Import
- `fc1` expects 64 * 4 * 4 features but receives 128 * 4 * 4: Input Tensor Shape Mismatch
"""
import torch
import torch.nn as nn


class SimpleCNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2D(3, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, kernal_size=3, padding=1)
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(64 * 4 * 4, 256)
        self.fc2 = nn.Linear(256, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = self.pool(F.relu(self.conv3(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def dl_model():
    return SimpleCNN()
