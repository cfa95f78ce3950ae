"""Every text the pages show has its Indonesian translation; English is the key."""

from __future__ import annotations

import re
from pathlib import Path

from loket.web import i18n

WEB = Path(__file__).resolve().parents[2] / "loket" / "web"
# _("...") in templates, page.t("...") / t("...") and DONE_MESSAGES in the page modules.
_TEXT = re.compile(r"""(?:\b_|\bt)\(\s*(["'])((?:(?!\1).)+)\1\s*\)""")


def used_texts() -> set[str]:
    found: set[str] = set()
    for path in [*WEB.glob("templates/**/*.html"), *WEB.glob("*.py")]:
        found |= {m.group(2) for m in _TEXT.finditer(path.read_text(encoding="utf-8"))}
    from loket.web.staff_pages import DONE_MESSAGES

    return found | set(DONE_MESSAGES.values())


def test_every_text_has_an_indonesian_translation() -> None:
    texts = used_texts()
    assert len(texts) > 100
    missing = sorted(t for t in texts if t not in i18n.INDONESIAN)
    assert not missing, missing


def test_language_choice() -> None:
    assert i18n.pick(None) == "id"
    assert i18n.pick("en") == "en"
    assert i18n.pick("fr", "fr-FR,en;q=0.5") == "id"
    assert i18n.translate("Inbox", "id") == "Kotak masuk"
    assert i18n.translate("Inbox", "en") == "Inbox"
    assert i18n.event_label("step_returned", "en") == "Returned to the applicant"
