"""Charts drawn on the server as inline SVG, so no chart library is needed.

Each chart is an `<svg role="img">` with a title and a description for screen
readers, and the page shows the same figures in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

#: Bar colours, dark enough for white text and distinguishable in grey scale.
PALETTE = ("#1f5fa8", "#2f855a", "#b7791f", "#9b2c2c", "#6b46c1", "#2c7a7b")


def bar_chart(
    title: str, items: Sequence[tuple[str, float]], *, empty: str, width: int = 480
) -> Markup:
    """Draw horizontal bars, one per `(label, value)`, longest value full width."""
    if not items:
        return Markup(f'<p class="chart-empty">{escape(empty)}</p>')
    row, label_w, gap = 26, 150, 8
    top = max((value for _label, value in items), default=0) or 1
    bar_space = width - label_w - 60
    height = row * len(items) + gap
    parts = [_open(title, width, height, items)]
    for i, (label, value) in enumerate(items):
        y = gap + i * row
        length = max(2.0, bar_space * value / top)
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" '
            f'class="chart-label">{escape(_clip(label, 22))}</text>'
            f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{colour}" rx="2"></rect>'
            f'<text x="{label_w + length + 4:.1f}" y="{y + 14}" '
            f'class="chart-value">{_number(value)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(
    title: str, items: Sequence[tuple[str, float]], *, empty: str, width: int = 480
) -> Markup:
    """Draw vertical columns in the order given, as for counts over time."""
    if not items:
        return Markup(f'<p class="chart-empty">{escape(empty)}</p>')
    height, bottom, top_pad = 180, 36, 18
    top = max((value for _label, value in items), default=0) or 1
    slot = (width - 20) / len(items)
    bar_w = max(4.0, slot * 0.7)
    parts = [_open(title, width, height, items)]
    for i, (label, value) in enumerate(items):
        bar_h = max(1.0, (height - bottom - top_pad) * value / top)
        x = 10 + i * slot + (slot - bar_w) / 2
        y = height - bottom - bar_h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" '
            f'fill="{PALETTE[0]}" rx="2"></rect>'
            f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
            f'class="chart-value">{_number(value)}</text>'
            f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 14}" '
            f'text-anchor="middle" class="chart-label">{escape(_clip(label, 8))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(
    title: str, width: int, height: int, items: Sequence[tuple[str, float]]
) -> str:
    summary = "; ".join(f"{label}: {_number(value)}" for label, value in items)
    return (
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f"<desc>{escape(summary)}</desc>"
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def graph_chart(
    title: str,
    nodes: Sequence[tuple[str, str, str]],
    edges: Sequence[tuple[str, str, str]],
    *,
    empty: str,
    width: int = 720,
) -> Markup:
    """Draw a directed graph left to right, one column per depth.

    `nodes` are `(id, kind, label)` and `edges` are `(source, target, label)`.
    A node's depth is the length of the longest path of edges leading to it.
    """
    if not nodes:
        return Markup(f'<p class="chart-empty">{escape(empty)}</p>')
    depth = {node_id: 0 for node_id, _kind, _label in nodes}
    for _ in range(len(nodes)):
        for source, target, _label in edges:
            if source in depth and target in depth:
                depth[target] = max(depth[target], depth[source] + 1)
    columns: dict[int, list[str]] = {}
    for node_id, _kind, _label in nodes:
        columns.setdefault(depth[node_id], []).append(node_id)
    box_w, box_h, col_gap, row_gap = 170, 44, 60, 16
    rows = max(len(ids) for ids in columns.values())
    width = max(width, len(columns) * (box_w + col_gap))
    height = rows * (box_h + row_gap) + row_gap
    where = {
        node_id: (10 + d * (box_w + col_gap), row_gap + i * (box_h + row_gap))
        for d, ids in columns.items()
        for i, node_id in enumerate(ids)
    }
    summary = "; ".join(f"{s} → {t}: {label}" for s, t, label in edges)
    parts = [
        f'<svg class="chart graph" role="img" viewBox="0 0 {width} {height}">'
        f"<title>{escape(title)}</title><desc>{escape(summary)}</desc>"
    ]
    for source, target, label in edges:
        if source not in where or target not in where:
            continue
        x1, y1 = where[source][0] + box_w, where[source][1] + box_h / 2
        x2, y2 = where[target][0], where[target][1] + box_h / 2
        parts.append(
            f'<line x1="{x1}" y1="{y1}" x2="{x2 - 6}" y2="{y2}" class="edge"></line>'
            f'<polygon points="{x2},{y2} {x2 - 8},{y2 - 4} {x2 - 8},{y2 + 4}" '
            f'class="arrow"></polygon>'
            f'<text x="{(x1 + x2) / 2}" y="{(y1 + y2) / 2 - 4}" text-anchor="middle" '
            f'class="chart-label">{escape(_clip(label, 14))}</text>'
        )
    for node_id, kind, label in nodes:
        x, y = where[node_id]
        parts.append(
            f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="4" '
            f'class="node node-{escape(kind)}"></rect>'
            f'<text x="{x + 6}" y="{y + 17}" class="chart-value">'
            f"{escape(_clip(node_id, 26))}</text>"
            f'<text x="{x + 6}" y="{y + 34}" class="chart-label">'
            f"{escape(_clip(label, 26))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
