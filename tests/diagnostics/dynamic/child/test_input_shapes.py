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
