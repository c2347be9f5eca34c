"""A correct model written against tf.keras, as a third of LLM answers are."""
import tensorflow as tf
from tensorflow.keras.layers import Input, Conv2D, MaxPooling2D, Flatten, Dense
from tensorflow.keras.models import Model


def dl_model():
    inputs = Input(shape=(28, 28, 1))
    x = Conv2D(32, (3, 3), activation="relu", padding="same")(inputs)
    x = MaxPooling2D((2, 2))(x)
    x = tf.keras.layers.BatchNormalization()(x)
    x = Flatten()(x)
    outputs = Dense(10, activation="softmax")(x)
    return Model(inputs=inputs, outputs=outputs)
