"""The conventional values the check gives parameters and data-computed sizes by their names."""

from __future__ import annotations

import pytest
from deepeval_lsp.diagnostics.dynamic.child.arguments import conventional_value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("in_channels", 3),
        ("NUM_CLASSES", 10),
        ("INPUT_DIM", 64),
        ("vocab_size", 100),
        ("PAD_IDX", 0),
        ("enc_depth", 2),
        ("stackwise_num_filters", [2, 2]),
        ("layerwise_depths", [2, 2]),
        ("rank", 4),
        ("dropout", 0.0),
        ("use_bias", False),
        ("width_of_rows", None),
    ],
)
def test_conventional_values_by_name(name: str, value: object) -> None:
    assert conventional_value(name) == value


def test_each_call_gets_its_own_list() -> None:
    first = conventional_value("stackwise_num_blocks")
    first.append(9)
    assert conventional_value("stackwise_num_blocks") == [2, 2]
