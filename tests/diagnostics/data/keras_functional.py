"""A correct Keras functional model for CIFAR-10 with two branches and a residual add."""
import keras
from keras import layers
from keras.models import Model


def block(x, filters):
    y = layers.Conv2D(filters, (3, 3), padding="same", activation="relu")(x)
    y = layers.BatchNormalization()(y)
    return layers.Add()([x, y])


def dl_model():
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer="he_normal")(inputs)
    a = block(x, 32)
    b = layers.SeparableConv2D(32, 5, padding="same")(x)
    x = layers.Concatenate(axis=-1)([a, b])
    x = layers.MaxPooling2D(pool_size=(2, 2))(x)
    x = layers.Dropout(0.25)(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.001),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
