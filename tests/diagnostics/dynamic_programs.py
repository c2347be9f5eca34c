"""Programs for the dynamic-pass tests: correct models, and one shape mistake per fix kind.

A line that the check must report carries the comment `# error`; the construction site the fix
must edit carries `# fix`.
"""

from __future__ import annotations

CORRECT = {
    "lenet": '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet(nn.Module):
    """LeNet-5 for MNIST."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)
''',
    "resnet_block": """
import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = nn.Sequential()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                       nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.short(x))


class ResNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.layer1 = BasicBlock(16, 16)
        self.layer2 = BasicBlock(16, 32, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.layer2(self.layer1(torch.relu(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))
""",
    "transformer": """
import math
import torch
import torch.nn as nn


class TransformerClassifier(nn.Module):
    def __init__(self, vocab=1000, d_model=64, nhead=4, layers=2, classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=128, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.head = nn.Linear(d_model, classes)
        self.scale = math.sqrt(d_model)

    def forward(self, tokens):
        x = self.embed(tokens) * self.scale
        x = self.encoder(x)
        return self.head(x.mean(dim=1))
""",
    "unet": """
import torch
import torch.nn as nn


def double_conv(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    def __init__(self, cin=3, classes=2):
        super().__init__()
        self.d1 = double_conv(cin, 16)
        self.d2 = double_conv(16, 32)
        self.pool = nn.MaxPool2d(2)
        self.bottom = double_conv(32, 64)
        self.up2 = nn.ConvTranspose2d(64, 32, 2, stride=2)
        self.u2 = double_conv(64, 32)
        self.up1 = nn.ConvTranspose2d(32, 16, 2, stride=2)
        self.u1 = double_conv(32, 16)
        self.out = nn.Conv2d(16, classes, 1)

    def forward(self, x):
        c1 = self.d1(x)
        c2 = self.d2(self.pool(c1))
        b = self.bottom(self.pool(c2))
        x = self.u2(torch.cat([self.up2(b), c2], dim=1))
        x = self.u1(torch.cat([self.up1(x), c1], dim=1))
        return self.out(x)

# deepeval: input=(1, 3, 64, 64)
""",
    "lstm_classifier": """
import torch
import torch.nn as nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size=5000, embed_dim=100, hidden=128, classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden, num_layers=2, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(hidden * 2, classes)

    def forward(self, x):
        x = self.embedding(x)
        out, (h, c) = self.lstm(x)
        h = torch.cat([h[-2], h[-1]], dim=1)
        return self.fc(self.dropout(h))


model = LSTMClassifier().to(device)
""",
    "keras_functional": """
from tensorflow import keras
from tensorflow.keras import layers


def dl_model():
    inputs = keras.Input(shape=(32, 32, 3))
    a = layers.Conv2D(32, (3, 3), padding="same", activation="relu")(inputs)
    b = layers.Conv2D(32, (1, 1), padding="same", activation="relu")(inputs)
    x = layers.Add()([a, b])
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D((2, 2))(x)
    c = layers.Conv2D(16, (3, 3), padding="same")(x)
    d = layers.Conv2D(16, (5, 5), padding="same")(x)
    x = layers.Concatenate()([c, d])
    x = layers.Flatten()(x)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)
""",
}

# One mistake per fix kind: (program, the constructor argument the fix must set).
SHAPE_MISTAKES = {
    "linear_in_features": (
        """
import torch.nn as nn

model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(28 * 28, 128),
    nn.ReLU(),
    nn.Linear(256, 10),  # error fix
)
# deepeval: input=(4, 1, 28, 28)
""",
        "128",
    ),
    "conv_in_channels": (
        """
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3)
        self.c2 = nn.Conv2d(32, 32, 3)  # fix

    def forward(self, x):
        return self.c2(torch.relu(self.c1(x)))  # error

# deepeval: input=(2, 3, 32, 32)
""",
        "16",
    ),
    "batchnorm_num_features": (
        """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 24, 3, padding=1)
        self.bn = nn.BatchNorm2d(12)  # fix

    def forward(self, x):
        return self.bn(self.conv(x))  # error

# deepeval: input=(2, 3, 16, 16)
""",
        "24",
    ),
    "lstm_input_size": (
        """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(1000, 64)
        self.rnn = nn.GRU(32, 16, batch_first=True)  # fix
        self.out = nn.Linear(16, 2)

    def forward(self, x):
        y, h = self.rnn(self.emb(x))  # error
        return self.out(y[:, -1])
""",
        "64",
    ),
    "mha_embed_dim": (
        """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(20, 48)
        self.attn = nn.MultiheadAttention(32, 4, batch_first=True)  # fix

    def forward(self, x):
        q = self.proj(x)
        out, _ = self.attn(q, q, q)  # error
        return out

# deepeval: input=(2, 7, 20)
""",
        "48",
    ),
    "layernorm_normalized_shape": (
        """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 40)
        self.norm = nn.LayerNorm(10)  # fix

    def forward(self, x):
        return self.norm(self.fc(x))  # error

# deepeval: input=(3, 10)
""",
        "40",
    ),
    "embedding_fed_linear": (
        """
import torch.nn as nn


class Bag(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.EmbeddingBag(500, 50)
        self.fc = nn.Linear(100, 5)  # fix

    def forward(self, x):
        return self.fc(self.emb(x))  # error

# deepeval: input=(2, 12)
""",
        "50",
    ),
    "keras_dense_add": (
        """
from keras import layers, Model, Input


def dl_model():
    inp = Input(shape=(20,))
    a = layers.Dense(32, activation="relu")(inp)
    b = layers.Dense(16)(a)  # fix
    out = layers.Add()([a, b])  # error
    out = layers.Dense(3, activation="softmax")(out)
    return Model(inp, out)
""",
        "32",
    ),
    "keras_conv_add": (
        """
import keras
from keras import layers


def dl_model():
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    y = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    y = layers.Conv2D(64, 3, padding="same")(y)  # fix
    x = layers.Add()([x, y])  # error
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
""",
        "32",
    ),
    "keras_reshape": (
        """
import keras
from keras import layers


def dl_model():
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(8, 3, padding="same")(inputs)
    x = layers.Reshape((28, 28, 4))(x)  # error fix
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(10)(x))
""",
        "(28, 28, 8)",
    ),
    "keras_concat_padding": (
        """
import keras
from keras import layers


def dl_model():
    inputs = keras.Input(shape=(32, 32, 3))
    a = layers.Conv2D(16, (1, 1))(inputs)
    b = layers.Conv2D(16, (3, 3), activation="relu")(inputs)  # fix
    x = layers.Concatenate()([a, b])  # error
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
""",
        '"same"',
    ),
    "torch_cat_padding": (
        """
import torch
import torch.nn as nn


class Inception(nn.Module):
    def __init__(self, cin=3):
        super().__init__()
        self.b1 = nn.Conv2d(cin, 8, 1)
        self.b3 = nn.Sequential(nn.Conv2d(cin, 8, 3), nn.BatchNorm2d(8), nn.ReLU())  # fix
        self.b5 = nn.Conv2d(cin, 8, 5, padding=2)
        self.head = nn.Linear(24, 10)

    def forward(self, x):
        x = torch.cat([self.b1(x), self.b3(x), self.b5(x)], dim=1)  # error
        return self.head(x.mean(dim=(2, 3)))

# deepeval: input=(2, 3, 32, 32)
""",
        "1",
    ),
}

# The input shape is stated: fc1's mistake depends on it (a guessed one would make it a note).
THREE_MISTAKES = '''
import torch  # deepeval: input=(2, 3, 32, 32)
import torch.nn as nn
import torch.nn.functional as F


class CifarNet(nn.Module):
    """A small CNN for CIFAR-10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(64, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 4 * 4, 256)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # error
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))  # error
        return self.fc2(x)  # error
'''

# The usual shape of a StackOverflow question: the model at module level, then data and training.
# SENTINEL is replaced by a path the test watches: the training code must never run. Its input
# shape is stated (the loader's batches), as the shape error depends on it.
TRAINING_SCRIPT = """
import torch
import torch.nn as nn
import torch.optim as optim
from torchvision import datasets, transforms

model = nn.Sequential(
    nn.Conv2d(1, 32, 3),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(32 * 14 * 14, 10),  # error
)

with open(SENTINEL, "w") as f:
    f.write("the training script ran")
train = datasets.MNIST("data", train=True, download=True, transform=transforms.ToTensor())
loader = torch.utils.data.DataLoader(train, batch_size=64)  # deepeval: input=(64, 1, 28, 28)
optimizer = optim.SGD(model.parameters(), lr=0.01)
open(SENTINEL, "w").write("the training script ran")
for epoch in range(10_000):
    for x, y in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
torch.save(model.state_dict(), SENTINEL)

if __name__ == "__main__":
    open(SENTINEL, "w").write("the main block ran")
"""


def marked_lines(source: str, mark: str) -> list[int]:
    """0-based lines whose trailing comment contains `mark`."""
    return [
        i
        for i, line in enumerate(source.splitlines())
        if "#" in line and mark in line.split("#", 1)[1].split()
    ]


# The classifier's in_features is written for 8x8 feature maps; the pooled maps are 16x16.
POOLED_FC_MISTAKE = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 8 * 8, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv(x)))
        x = x.view(x.size(0), -1)
        return self.fc(x)


model = Net()  # deepeval: input=(1, 3, 32, 32)
"""
