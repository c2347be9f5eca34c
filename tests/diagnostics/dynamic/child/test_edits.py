"""Edits of the run's copy of the source, and positions mapped back to the source as written."""

from __future__ import annotations

from deepeval_lsp.diagnostics.dynamic.child.edits import (
    apply_tuple_edits,
    edit_json,
    map_edit_back,
    map_error_back,
    map_pos_back,
    overlaps,
)

SOURCE = "fc = nn.Linear(10, 5)\nout = fc(x)\n"
FIX = (0, 15, 0, 17, "400")  # 10 -> 400


def test_apply_and_map_back():
    fixed = apply_tuple_edits(SOURCE, [FIX])
    assert fixed.splitlines()[0] == "fc = nn.Linear(400, 5)"
    # after the edit, column 20 (the 5) was column 19 in the source as written
    assert map_pos_back(0, 20, [FIX]) == (0, 19)
    assert map_pos_back(0, 16, [FIX]) == (0, 15)  # inside the edit: its start
    assert map_pos_back(1, 3, [FIX]) == (1, 3)  # another line
    assert map_edit_back((0, 19, 0, 20, "6"), [FIX]) == (0, 18, 0, 19, "6")
    assert edit_json(FIX) == {"range": [0, 15, 0, 17], "new_text": "400"}


def test_overlapping_edits():
    assert overlaps([(0, 16, 0, 17, "1")], [FIX])
    assert not overlaps([(0, 19, 0, 20, "6")], [FIX])
    assert not overlaps([(1, 0, 1, 3, "y")], [FIX])


def test_an_error_maps_back_with_its_related_ranges():
    err = {
        "code": "DL301",
        "range": [0, 20, 0, 21],
        "message": "m",
        "python_error": "RuntimeError",
        "layer": "fc (Linear)",
        "related": [{"range": [0, 20, 0, 21], "message": "here"}],
    }
    back = map_error_back(err, [FIX])
    assert back["range"] == [0, 19, 0, 20]
    assert back["related"][0]["range"] == [0, 19, 0, 20]
    assert map_error_back(err, []) is err
