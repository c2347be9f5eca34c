import torch
import torch.nn as nn
import torch.nn.functional as F


class TextCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(15000, 100)
        self.conv3 = nn.Conv1d(in_channels=100, out_channels=100, kernel_size=3)
        self.conv4 = nn.Conv1d(in_channels=100, out_channels=100, kernel_size=4)
        self.conv5 = nn.Conv1d(in_channels=100, out_channels=100, kernel_size=5)
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(300, 2)

    def forward(self, token_ids):
        x = self.embedding(token_ids).permute(0, 2, 1)
        branch3 = F.relu(self.conv3(x)).max(dim=2)[0]
        branch4 = F.relu(self.conv4(x)).max(dim=2)[0]
        branch5 = F.relu(self.conv5(x)).max(dim=2)[0]
        features = torch.cat([branch3, branch4, branch5], dim=1)
        return self.fc(self.dropout(features))


def dl_model() -> nn.Module:
    return TextCNN()
