"""The HTML report's hand-written SVG charts: the line plot of executability by round."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from deepeval_lsp.benchmark.report.svg import lines

NS = "{http://www.w3.org/2000/svg}"


def test_lines_draw_a_dot_per_value_and_break_at_missing_values():
    svg = lines(
        "Executability by round",
        ["round 0", "round 1", "round 2", "round 3"],
        {"a / zeroshot+repair:3": [10.0, 50.0, 90.0, 90.0], "b <&>": [0.0, None, 40.0, 60.0]},
        max_value=100,
        unit="%",
    )
    root = ET.fromstring(svg)  # well-formed, names escaped
    polylines = root.findall(f"{NS}polyline")
    assert [len(p.get("points").split()) for p in polylines] == [4, 2]
    titles = [c.find(f"{NS}title").text for c in root.findall(f"{NS}circle")]
    assert len(titles) == 7
    assert "b <&> · round 3: 60%" in titles
    # 100% sits at the top grid line, 0% at the bottom one
    ys = {t: float(c.get("cy")) for t, c in zip(titles, root.findall(f"{NS}circle"), strict=True)}
    grid = sorted(float(g.get("y1")) for g in root.findall(f"{NS}line"))
    assert ys["b <&> · round 0: 0%"] == grid[-1]
    assert re.search(r"round 2", svg)
