"""CIFAR-10 model written against tf.keras, as about a third of LLM answers are.

- `DepthwiseSeparableConv2D` does not exist: Non-Existent API Import (fix: SeparableConv2D)
- `kernal_size` is misspelled: Unexpected API Argument
- `Dense(-10)`: a negative number of units: Invalid API Argument Value
"""
import tensorflow as tf
from tensorflow.keras.layers import Input, Conv2D, DepthwiseSeparableConv2D, Flatten, Dense
from tensorflow.keras.models import Model


def dl_model():
    inputs = Input(shape=(32, 32, 3))
    x = Conv2D(32, kernal_size=(3, 3), activation="relu")(inputs)
    x = DepthwiseSeparableConv2D(64, (3, 3), activation="relu")(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    x = Flatten()(x)
    outputs = Dense(-10, activation="softmax")(x)
    return Model(inputs=inputs, outputs=outputs)
