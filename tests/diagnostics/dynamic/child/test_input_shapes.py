"""The input shapes forward runs with, from what the file says."""

from __future__ import annotations

from deepeval_lsp.diagnostics.dynamic.child.input_shapes import dataset_shape, pragma_shapes


def test_pragma_shapes():
    assert pragma_shapes("model = Net()  # deepeval: input=(1, 3, 32, 32)\n") == [(1, 3, 32, 32)]
    assert pragma_shapes("# deepeval: input=[(2, 16), (2, 4)], task=t\n") == [(2, 16), (2, 4)]
    assert pragma_shapes("# deepeval: input=1, 28, 28\n") == [(1, 28, 28)]
    assert pragma_shapes("# deepeval: task=t\n") is None
    assert pragma_shapes("# deepeval: input=(a, b)\n") is None


def test_dataset_shape():
    assert dataset_shape('"""A classifier for CIFAR-10."""') == (3, 32, 32)
    assert dataset_shape("mnist digits") == (1, 28, 28)
    assert dataset_shape("no data set here") is None


def test_a_programs_own_class_named_like_a_torch_layer_is_not_read_as_one():
    from deepeval_lsp.diagnostics.dynamic.child.input_shapes import first_leaf, guesses_from_layer
    from torch import nn

    class LSTM(nn.Module):  # the program's model, which wraps an embedding and a torch LSTM
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(100, 16)
            self.lstm = nn.LSTM(16, 32, batch_first=True)

    model = LSTM()
    assert first_leaf(model) is model.embedding
    assert guesses_from_layer(model) == ([], "LSTM", False)
    assert guesses_from_layer(model.lstm)[0] == [[(2, 8, 16)]]
