import torch
import torch.nn as nn


class ImageEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.cnn = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.project = nn.Linear(128, 256)

    def forward(self, image):
        return torch.tanh(self.project(self.cnn(image)))


class QuestionEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(5000, 300)
        self.lstm = nn.LSTM(300, 256, batch_first=True)

    def forward(self, question):
        _, (hidden, _) = self.lstm(self.embedding(question))
        return torch.tanh(hidden[-1])


class VQAModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.image_encoder = ImageEncoder()
        self.question_encoder = QuestionEncoder()
        self.classifier = nn.Sequential(
            nn.Linear(256, 256),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(256, 100),
        )

    def forward(self, image, question):
        image_vec = self.image_encoder(image)
        question_vec = self.question_encoder(question)
        return self.classifier(image_vec * question_vec)


def dl_model() -> nn.Module:
    return VQAModel()
