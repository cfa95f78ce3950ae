"""Small SVG charts for simulation reports: lines over working days, histograms, bars.

Hand-written SVG (no plotting library, no external program): the charts are few and plain,
and a report must render on the regency's machines without anything installed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

W, H = 760, 340
LEFT, RIGHT, TOP, BOTTOM = 60, 170, 36, 44
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
_FONT = "font-family='DejaVu Sans, Arial, sans-serif' font-size='11'"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for exp in range(-3, 9):
        for step in (1, 2, 2.5, 5):
            candidate = float(step * 10.0**exp)
            if candidate >= value:
                return candidate
    return value


def _frame(title: str, x_label: str, y_label: str, y_max: float, x_max: float) -> list[str]:
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' viewBox='0 0 {W} {H}' {_FONT}>",
        f"<rect width='{W}' height='{H}' fill='#fff'/>",
        f"<text x='{LEFT}' y='20' font-size='13' font-weight='bold'>{escape(title)}</text>",
        f"<text x='{LEFT + pw / 2:.0f}' y='{H - 8}' text-anchor='middle'>{escape(x_label)}</text>",
        f"<text x='14' y='{TOP + ph / 2:.0f}' text-anchor='middle' "
        f"transform='rotate(-90 14 {TOP + ph / 2:.0f})'>{escape(y_label)}</text>",
        f"<rect x='{LEFT}' y='{TOP}' width='{pw}' height='{ph}' fill='none' stroke='#888'/>",
    ]
    for i in range(5):
        value = y_max * i / 4
        y = TOP + ph - ph * i / 4
        out.append(f"<line x1='{LEFT}' y1='{y:.1f}' x2='{LEFT + pw}' y2='{y:.1f}' stroke='#eee'/>")
        out.append(f"<text x='{LEFT - 4}' y='{y + 4:.1f}' text-anchor='end'>{value:g}</text>")
    for i in range(6):
        value = x_max * i / 5
        x = LEFT + pw * i / 5
        out.append(f"<text x='{x:.1f}' y='{TOP + ph + 15}' text-anchor='middle'>{value:.4g}</text>")
    return out


def _legend(names: Sequence[str]) -> list[str]:
    out = []
    for i, name in enumerate(names):
        y = TOP + 10 + 16 * i
        color = COLORS[i % len(COLORS)]
        out.append(
            f"<rect x='{W - RIGHT + 10}' y='{y - 8}' width='10' height='10' fill='{color}'/>"
            f"<text x='{W - RIGHT + 24}' y='{y + 1}'>{escape(name[:24])}</text>"
        )
    return out


def line_chart(
    title: str, x_label: str, y_label: str, series: Mapping[str, Sequence[float]]
) -> str:
    """One line per series over its index (a working day)."""
    length = max((len(v) for v in series.values()), default=0)
    y_max = _nice_max(max((max(v) for v in series.values() if v), default=1.0))
    x_max = float(max(length - 1, 1))
    out = _frame(title, x_label, y_label, y_max, x_max)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    for i, values in enumerate(series.values()):
        points = " ".join(
            f"{LEFT + pw * k / x_max:.1f},{TOP + ph - ph * min(v, y_max) / y_max:.1f}"
            for k, v in enumerate(values)
        )
        color = COLORS[i % len(COLORS)]
        out.append(f"<polyline points='{points}' fill='none' stroke='{color}' stroke-width='1.4'/>")
    out += _legend(list(series))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def histogram(
    title: str, x_label: str, series: Mapping[str, Sequence[float]], bins: int = 30
) -> str:
    """Share of values per bin, series overlaid as outlined steps."""
    values = [v for vs in series.values() for v in vs]
    top = max(values, default=1.0)
    x_max = _nice_max(top)
    width = x_max / bins
    shares: dict[str, list[float]] = {}
    for name, vs in series.items():
        counts = [0] * bins
        for v in vs:
            counts[min(int(v / width), bins - 1)] += 1
        shares[name] = [c / len(vs) if vs else 0.0 for c in counts]
    y_max = _nice_max(max((max(s) for s in shares.values()), default=1.0))
    out = _frame(title, x_label, "share of applications", y_max, x_max)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    for i, share in enumerate(shares.values()):
        path = [f"M{LEFT},{TOP + ph}"]
        for b, s in enumerate(share):
            x0, x1 = LEFT + pw * b / bins, LEFT + pw * (b + 1) / bins
            y = TOP + ph - ph * s / y_max
            path.append(f"L{x0:.1f},{y:.1f} L{x1:.1f},{y:.1f}")
        path.append(f"L{LEFT + pw},{TOP + ph}")
        color = COLORS[i % len(COLORS)]
        out.append(
            f"<path d='{' '.join(path)}' fill='{color}' fill-opacity='0.15' stroke='{color}'/>"
        )
    out += _legend(list(series))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def bar_chart(
    title: str, y_label: str, categories: Sequence[str], series: Mapping[str, Sequence[float]]
) -> str:
    """Grouped bars: one group per category, one bar per series."""
    y_max = _nice_max(max((max(v) for v in series.values() if v), default=1.0))
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM - 40
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' viewBox='0 0 {W} {H}' {_FONT}>",
        f"<rect width='{W}' height='{H}' fill='#fff'/>",
        f"<text x='{LEFT}' y='20' font-size='13' font-weight='bold'>{escape(title)}</text>",
        f"<text x='14' y='{TOP + ph / 2:.0f}' text-anchor='middle' "
        f"transform='rotate(-90 14 {TOP + ph / 2:.0f})'>{escape(y_label)}</text>",
    ]
    for i in range(5):
        y = TOP + ph - ph * i / 4
        out.append(f"<line x1='{LEFT}' y1='{y:.1f}' x2='{LEFT + pw}' y2='{y:.1f}' stroke='#eee'/>")
        out.append(
            f"<text x='{LEFT - 4}' y='{y + 4:.1f}' text-anchor='end'>{y_max * i / 4:g}</text>"
        )
    group = pw / max(len(categories), 1)
    bar = group * 0.8 / max(len(series), 1)
    for c, category in enumerate(categories):
        gx = LEFT + group * c + group * 0.1
        for i, values in enumerate(series.values()):
            v = values[c] if c < len(values) else 0.0
            h = ph * min(v, y_max) / y_max
            out.append(
                f"<rect x='{gx + bar * i:.1f}' y='{TOP + ph - h:.1f}' width='{bar:.1f}' "
                f"height='{h:.1f}' fill='{COLORS[i % len(COLORS)]}'><title>{escape(category)}: "
                f"{v:.3f}</title></rect>"
            )
        cx = gx + group * 0.4
        out.append(
            f"<text x='{cx:.1f}' y='{TOP + ph + 12}' text-anchor='end' font-size='9' "
            f"transform='rotate(-30 {cx:.1f} {TOP + ph + 12})'>{escape(category)}</text>"
        )
    out += _legend(list(series))
    out.append("</svg>")
    return "\n".join(out) + "\n"
