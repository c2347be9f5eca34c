"""Small inline SVG charts for the HTML report: grouped vertical bars, horizontal bars, lines.

No plotting library: each chart is a few dozen elements written by hand, readable without
JavaScript, with a <title> on every bar so hovering shows the exact value.
"""

from __future__ import annotations

from html import escape

PALETTE = (
    "#4269d0",
    "#efb118",
    "#ff725c",
    "#6cc5b0",
    "#3ca951",
    "#ff8ab7",
    "#a463f2",
    "#97bbf5",
    "#9c6b4e",
    "#9498a0",
)


def _fmt(v: float) -> str:
    return f"{v:.1f}" if abs(v - round(v)) > 1e-9 else str(round(v))


def grouped_bars(
    title: str,
    groups: list[str],
    series: dict[str, list[float | None]],
    *,
    max_value: float | None = None,
    unit: str = "",
    height: int = 260,
) -> str:
    """Bars grouped by `groups` (x axis), one colour per series; None values are left out."""
    values = [v for vs in series.values() for v in vs if v is not None]
    top = max_value if max_value is not None else (max(values) if values else 1.0) or 1.0
    n_series = max(1, len(series))
    bar_w = 14
    group_w = n_series * bar_w + 18
    left, bottom, plot_h = 44, 70, height - 100
    legend_w = sum(14 + 7 * len(name) + 16 for name in series)
    width = max(left + max(1, len(groups)) * group_w + 20, legend_w + left, 8 * len(title) + 60)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f'<text x="{left}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    y0 = height - bottom
    for i in range(5):
        v = top * i / 4
        y = y0 - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{_fmt(v)}{escape(unit)}</text>'
        )
    for gi, group in enumerate(groups):
        gx = left + gi * group_w + 9
        for si, (name, vs) in enumerate(series.items()):
            v = vs[gi] if gi < len(vs) else None
            if v is None:
                continue
            h = plot_h * min(v, top) / top if top else 0
            x = gx + si * bar_w
            parts.append(
                f'<rect x="{x}" y="{y0 - h:.1f}" width="{bar_w - 2}" height="{h:.1f}" '
                f'fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(group)} · {escape(name)}: '
                f"{_fmt(v)}{escape(unit)}</title></rect>"
            )
            parts.append(
                f'<text x="{x + (bar_w - 2) / 2:.1f}" y="{y0 - h - 3:.1f}" font-size="8" '
                f'text-anchor="middle">{v:.0f}</text>'
            )
        cx = gx + n_series * bar_w / 2
        parts.append(
            f'<text x="{cx:.1f}" y="{y0 + 14}" text-anchor="middle">{escape(_short(group))}</text>'
        )
    lx = left
    for si, name in enumerate(series):
        parts.append(
            f'<rect x="{lx}" y="{height - 22}" width="10" height="10" '
            f'fill="{PALETTE[si % len(PALETTE)]}"/>'
        )
        parts.append(f'<text x="{lx + 14}" y="{height - 13}">{escape(name)}</text>')
        lx += 14 + 7 * len(name) + 16
    parts.append("</svg>")
    return "".join(parts)


def hbars(title: str, items: list[tuple[str, float]], *, unit: str = "") -> str:
    """One horizontal bar per (label, value), longest first as given."""
    row_h, label_w, bar_max = 20, 260, 320
    height = 30 + row_h * max(1, len(items)) + 10
    width = label_w + bar_max + 70
    top = max((v for _, v in items), default=1.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    if not items:
        parts.append('<text x="4" y="40">nothing to show</text>')
    for i, (label, v) in enumerate(items):
        y = 28 + i * row_h
        w = bar_max * v / top
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row_h - 6}" '
            f'fill="{PALETTE[0]}"><title>{escape(label)}: {_fmt(v)}{escape(unit)}'
            f"</title></rect>"
        )
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 13}">{_fmt(v)}{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def lines(
    title: str,
    xs: list[str],
    series: dict[str, list[float | None]],
    *,
    max_value: float | None = None,
    unit: str = "",
    height: int = 280,
) -> str:
    """One polyline per series over the points `xs` (x axis), a dot with a <title> at each
    value; a None value breaks its line there."""
    values = [v for vs in series.values() for v in vs if v is not None]
    top = max_value if max_value is not None else (max(values) if values else 1.0) or 1.0
    left, step = 44, 90
    bottom = 40 + 16 * len(series)  # the x labels, then one legend line per series
    height = max(height, bottom + 150)
    plot_h = height - 30 - bottom
    legend_w = max((7 * len(name) + 30 for name in series), default=0)
    width = max(left + step * max(1, len(xs) - 1) + 40, legend_w + left, 8 * len(title) + 60)
    y0 = height - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f'<text x="{left}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for i in range(5):
        v = top * i / 4
        y = y0 - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{_fmt(v)}{escape(unit)}</text>'
        )

    def x_of(i: int) -> float:
        return left + 20 + step * i

    for i, label in enumerate(xs):
        parts.append(
            f'<text x="{x_of(i):.1f}" y="{y0 + 14}" text-anchor="middle">{escape(label)}</text>'
        )
    for si, (name, vs) in enumerate(series.items()):
        colour = PALETTE[si % len(PALETTE)]
        points: list[tuple[float, float, float, str]] = []
        for i, v in enumerate(vs[: len(xs)]):
            if v is None:
                if len(points) > 1:
                    parts.append(_polyline(points, colour))
                points = []
                continue
            y = y0 - plot_h * min(v, top) / top
            points.append((x_of(i), y, v, xs[i]))
            parts.append(
                f'<circle cx="{x_of(i):.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>'
                f"{escape(name)} · {escape(xs[i])}: {_fmt(v)}{escape(unit)}</title></circle>"
            )
        if len(points) > 1:
            parts.append(_polyline(points, colour))
        ly = y0 + 30 + 16 * si
        parts.append(f'<rect x="{left}" y="{ly - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{left + 14}" y="{ly}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _polyline(points: list[tuple[float, float, float, str]], colour: str) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
    return f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>'


def _short(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
