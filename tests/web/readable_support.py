"""What a page shows a citizen, as text, and the checks of the readable pages (12c).

``visible_text`` is what a reader sees: text nodes outside scripts and styles, without the
"rumus" elements (the formula kept for those who recompute). The checks name the first
offending piece of text, so a failure says what to fix.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from loket.route.model import PermitType

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
_SKIP_TAGS = {"script", "style"}


class _Visible(HTMLParser):
    def __init__(self, drop_class: str) -> None:
        super().__init__(convert_charrefs=True)
        self.drop_class = drop_class
        self.skip = 0  # depth inside a dropped element
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        dropped = self.drop_class in classes or "ident" in classes
        if self.skip or tag in _SKIP_TAGS or dropped:
            self.skip += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        return  # <path/>, <rect/>: no text

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str, drop_class: str = "rumus") -> str:
    """The text a reader sees, without elements of ``drop_class`` (and ``ident``: an id
    shown on purpose, e.g. a refusal code an inspector searches the logs for)."""
    parser = _Visible(drop_class)
    parser.feed(html)
    parser.close()
    return "\n".join(parser.parts)


# Python values and English decimals that leak into a page: ['site_address'], 25.0, 0.035
_LEAKS = {
    "python list or dict": re.compile(r"\[\s*'|\{\s*'|'\s*\]"),
    "python constant": re.compile(r"\b(?:None|True|False)\b(?!\s+[a-z])"),  # not "None recorded."
    "float with .0": re.compile(r"(?<![\d.,])\d+\.0(?![\d.])"),  # not 127.0.0.1
    "English decimal": re.compile(r"(?<![\d.,])0\.\d|(?<![\d.])\d+\.(?:\d{1,2}|\d{4,})(?![\d.])"),
    "identifier": re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]*[a-z0-9]\b"),
    "agency/counter id": re.compile(r"\b(?:dpmptsp|dpupr|dlh|dinkes|disnaker|bank)/[a-z]"),
    "pydantic message": re.compile(r"Input should|Field required|String should|Value error"),
    "fallback marker": re.compile(r"Peristiwa ini belum memiliki uraian|no description yet"),
}


def leaks(text: str) -> list[str]:
    """Every leak found, as 'kind: the text around it'."""
    found = []
    for kind, pattern in _LEAKS.items():
        for m in pattern.finditer(text):
            found.append(f"{kind}: ...{text[max(0, m.start() - 40) : m.end() + 40]!r}...")
    return found


_OPERATORS = re.compile(r"==|!=|&&|\|\||!\s*is_|\?\s*[\w\"]+\s*:")


def cel_operators(text: str, permit: PermitType) -> list[str]:
    """CEL in the text: its operators, or a comparison next to a form field or tariff
    parameter (``building_area_m2 > 500.0``; a step named '... > 500 m²' is words)."""
    names = sorted({*permit.form, *permit.fees.parameters}, key=len, reverse=True)
    operand = "|".join(re.escape(n) for n in names)
    comparison = re.compile(rf"\b(?:{operand})\b\s*(?:[<>]=?)|(?:[<>]=?)\s*\b(?:{operand})\b")
    found = []
    for pattern in (_OPERATORS, comparison):
        for m in pattern.finditer(text):
            found.append(text[max(0, m.start() - 40) : m.end() + 40])
    return found
