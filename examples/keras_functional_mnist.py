"""MNIST model with two branches in the Keras functional API, with typical LLM mistakes.

- `layers.Conv2d` is PyTorch spelling: Non-Existent API Attribute Access (fix: Conv2D)
- `activation="relu6x"` is not a Keras activation: Invalid API Argument Value
- `Add` is used but never imported: Missing API Import
- the two branches reach `Add` with different channel counts: Input Tensor Shape Mismatch
"""
import keras
from keras import layers
from keras.models import Model


def dl_model():
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2d(32, (3, 3), padding="same", activation="relu")(inputs)
    branch_a = layers.Conv2D(64, (3, 3), padding="same", activation="relu6x")(x)
    branch_b = layers.Conv2D(32, (1, 1), padding="same", activation="relu")(x)
    merged = Add()([branch_a, branch_b])
    x = layers.MaxPooling2D((2, 2))(merged)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return Model(inputs=inputs, outputs=outputs)
