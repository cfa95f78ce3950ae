"""Every text of the performance and survey pages has its Indonesian translation (the
shared check reads only the top folder of templates)."""

from __future__ import annotations

from pathlib import Path

from loket.web import i18n
from loket.web.performance_pages import ELEMENT_LABELS, SCALE
from tests.web.test_i18n import _TEXT

WEB = Path(__file__).resolve().parents[2] / "loket" / "web"


def test_every_text_of_these_pages_has_an_indonesian_translation() -> None:
    paths = [
        *WEB.glob("templates/performance/*.html"),
        *WEB.glob("templates/survey/*.html"),
        WEB / "performance_pages.py",
    ]
    texts = {m.group(2) for p in paths for m in _TEXT.finditer(p.read_text(encoding="utf-8"))}
    texts |= set(ELEMENT_LABELS.values()) | set(SCALE.values())
    assert len(texts) > 40
    missing = sorted(t for t in texts if t not in i18n.INDONESIAN)
    assert not missing, missing
