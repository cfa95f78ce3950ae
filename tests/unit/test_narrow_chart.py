"""The phone-width chart of the performance page: escaped text, one bar per row."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from loket.web.charts import Bar, narrow_bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_bars_are_drawn_to_their_share_and_text_is_escaped() -> None:
    bars = [Bar('<script>alert("x")</script>', 3, 4), Bar("SIP · April 2026", 5, 6)]
    svg = str(narrow_bar_chart(bars, "Tepat waktu & <per> layanan"))
    root = ET.fromstring(svg)  # well-formed: every text was escaped
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert '<script>alert("x")</script>' in texts and "83% (5/6)" in texts
    filled = [r for r in root.iter(f"{SVG}rect") if r.get("fill") != "#eef1f4"]
    assert [float(r.get("width", 0)) for r in filled] == [0.75 * 290, round(5 / 6 * 290, 1)]
