"""Server-drawn SVG charts of tracked-search analytics: volume over time, sentiment, share of voice.

Plain SVG (no script, no external resource): it passes the strict CSP inline in a page and as an
image; each chart has a ``<title>`` and ``<desc>`` and ``role="img"`` for screen readers, and the
page shows the same numbers in a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

WIDTH = 640
HEIGHT = 220
PAD = 32
COLORS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b", "#975a16", "#4a5568")
SENTIMENT_COLORS = {"positive": "#2f855a", "neutral": "#718096", "negative": "#c53030"}


def _svg(title: str, desc: str, body: Sequence[str], height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-labelledby="t d" class="chart">'
        f'<title id="t">{escape(title)}</title><desc id="d">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def bars(title: str, items: Sequence[tuple[str, int]], colors: Sequence[str] = COLORS[:1]) -> str:
    """Vertical bars, one per (label, value), with the axis's maximum written at the top."""
    top = max((v for _, v in items), default=0) or 1
    n = max(len(items), 1)
    slot = (WIDTH - 2 * PAD) / n
    body = [
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#a0aec0"/>',
        f'<text x="{PAD - 4}" y="{PAD}" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{PAD - 4}" y="{HEIGHT - PAD}" text-anchor="end" font-size="11">0</text>',
    ]
    every = max(1, n // 8)  # at most ~8 labels under the axis
    for i, (label, value) in enumerate(items):
        h = (HEIGHT - 2 * PAD) * value / top
        x = PAD + i * slot
        color = colors[i % len(colors)]
        body.append(
            f'<rect x="{x + slot * 0.1:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{slot * 0.8:.1f}" '
            f'height="{h:.1f}" fill="{color}"><title>{escape(label)}: {value}</title></rect>'
        )
        if i % every == 0:
            body.append(
                f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - PAD + 14}" text-anchor="middle" '
                f'font-size="10">{escape(label)}</text>'
            )
    desc = "; ".join(f"{label}: {value}" for label, value in items[:60])
    return _svg(title, desc, body)


def _short(at: str, bucket: str) -> str:
    # "2026-12-02T13:00:00Z" → "12-02 13h" (hours) or "12-02" (days)
    return f"{at[5:10]} {at[11:13]}h" if bucket == "hour" else at[5:10]


def volume_svg(title: str, data: dict[str, Any], heading: str = "volume") -> str:
    items = []
    for v in data["volume"]:
        at = v["at"] if isinstance(v["at"], str) else v["at"].strftime("%Y-%m-%dT%H:%M:%SZ")
        items.append((_short(at, data["bucket"]), int(v["count"])))
    return bars(f"{title} — {heading}", items)


def sentiment_svg(
    title: str, data: dict[str, Any], heading: str = "sentiment", names: dict[str, str] | None = None
) -> str:
    """``names``: the labels as the reader's language says them (English by default)."""
    order = ("positive", "neutral", "negative")
    items = [((names or {}).get(n, n), int(data["sentiment"].get(n, 0))) for n in order]
    return bars(f"{title} — {heading}", items, [SENTIMENT_COLORS[n] for n in order])


def share_svg(shares: Sequence[dict[str, Any]], heading: str = "Share of voice") -> str:
    """One horizontal stacked bar: each search's share of voice."""
    body: list[str] = []
    x = float(PAD)
    span = WIDTH - 2 * PAD
    for i, s in enumerate(shares):
        w = span * float(s["share"])
        color = COLORS[i % len(COLORS)]
        label = f"{s['name']}: {s['count']} ({float(s['share']) * 100:.1f}%)"
        body.append(
            f'<rect x="{x:.1f}" y="{PAD}" width="{w:.1f}" height="40" fill="{color}">'
            f"<title>{escape(label)}</title></rect>"
        )
        body.append(f'<rect x="{PAD}" y="{90 + i * 18}" width="12" height="12" fill="{color}"/>')
        body.append(f'<text x="{PAD + 18}" y="{100 + i * 18}" font-size="12">{escape(label)}</text>')
        x += w
    desc = "; ".join(f"{s['name']}: {s['count']}" for s in shares)
    return _svg(heading, desc, body, height=110 + 18 * len(shares))
