"""Pages a citizen can read (12c), over HTTP against the real app, PostgreSQL and Temporal.

For each permit type, in Bahasa Indonesia and in English: the catalog, the service
standard, its route diagram, the fee simulator (empty, priced, refused), the application
form (empty, refused, accepted), tracking while the file waits for corrections and after,
the staff task page (open and decided) and the audit trail. Every page must show no raw
key or fallback marker (a text without translation is logged by ``loket.web.i18n`` and
fails here), no Python list or float, no identifier, and no CEL outside "rumus".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from loket.route.loader import load_catalog
from loket.route.model import PermitType
from loket.settings import PROJECT_ROOT
from loket.web import i18n
from loket.web.format import number
from tests.api.harness import Api, idempotent
from tests.support import PBG_FORM, SIP_FORM, eventually
from tests.web.readable_support import cel_operators, leaks, visible_text
from tests.web.support import Browser

PTKA_FORM: dict[str, Any] = {
    "employer_name": "PT Cepu Energi",
    "worker_name": "John Smith",
    "position": "Drilling engineer",
    "months": 6,
}
# Per permit type: the form, its first counter, a correction to send, the fee fields.
JOURNEYS: dict[str, dict[str, Any]] = {
    "PBG": {
        "form": PBG_FORM,
        "counter": "dpmptsp/front_office",
        "first": "registration",
        "correct": {"building_area_m2": 725.5},
        "simulate": {"building_use": "sosial_budaya", "building_area_m2": "120,5"},
        "bad": {"building_use": "usaha", "building_area_m2": "0"},
    },
    "PTKA": {
        "form": PTKA_FORM,
        "counter": "disnaker/foreign_workers",
        "first": "verification",
        "correct": {"months": 3},
        "simulate": {"months": "6"},
        "bad": {"months": "13"},
    },
    "SIP": {
        "form": SIP_FORM,
        "counter": "dpmptsp/front_office",
        "first": "registration",
        "correct": {"profession": "dokter_gigi", "independent_practice": True},
        "simulate": {"profession": "bidan"},
        "bad": {"profession": "dukun"},
    },
}
Checked = dict[str, str]


def check_page(name: str, r: httpx.Response, permit: PermitType, *, public: bool) -> str:
    assert r.status_code < 500, (name, r.status_code)
    assert "data-fallback" not in r.text, name
    text = visible_text(r.text)
    problems = leaks(text)
    if public:
        problems += [f"CEL: {c!r}" for c in cel_operators(text, permit)]
    assert not problems, f"{name}:\n" + "\n".join(problems)
    return text


async def _task_open(api: Api, reg: str, step: str) -> None:
    async def probe() -> int:
        async with api.services.pool.acquire() as conn:
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM tasks WHERE registration_number = $1 "
                    "AND step_id = $2 AND state = 'open'",
                    reg,
                    step,
                )
            )

    await eventually(probe, lambda n: n >= 1)


async def _as_language(b: Browser, lang: str) -> None:
    r = await b.post("/lang", {"lang": lang, "next": "/"})
    assert r.status_code == 303


def _form(values: dict[str, Any]) -> dict[str, str]:
    return {
        k: ("on" if v is True else str(v).replace(".", ",") if isinstance(v, float) else str(v))
        for k, v in values.items()
        if v is not False
    }


@pytest.mark.parametrize("permit_type", sorted(JOURNEYS))
async def test_every_page_of_a_permit_reads_in_both_languages(
    api: Api, permit_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    journey = JOURNEYS[permit_type]
    permit = api.services.permit(permit_type)
    suffix = permit_type.lower()
    staff_name, boss_name, inspector_name = f"rina{suffix}", f"kepala{suffix}", f"insp{suffix}"
    agency = journey["counter"].split("/")[0]
    await api.add_user(staff_name, "staff", journey["counter"])
    await api.add_user(boss_name, "supervisor", agency=agency)
    await api.add_user(inspector_name, "inspector")
    visitor = {lang: Browser.open(api) for lang in ("id", "en")}
    staff = {lang: Browser.open(api) for lang in ("id", "en")}
    inspector = {lang: Browser.open(api) for lang in ("id", "en")}
    bosses = {lang: Browser.open(api) for lang in ("id", "en")}
    for lang in ("id", "en"):
        await staff[lang].sign_in(staff_name)
        await inspector[lang].sign_in(inspector_name)
        await bosses[lang].sign_in(boss_name)
        for b in (visitor[lang], staff[lang], inspector[lang], bosses[lang]):
            await _as_language(b, lang)
    boss = bosses["id"]
    seen: dict[str, str] = {}

    async def every_language(
        name: str, fetch: Callable[[str], Awaitable[httpx.Response]], *, public: bool
    ) -> None:
        for lang in ("id", "en"):
            i18n.warn_missing.cache_clear()  # each miss is logged once per process
            with caplog.at_level(logging.WARNING, logger="loket.web"):
                caplog.clear()
                r = await fetch(lang)
                misses = [rec.getMessage() for rec in caplog.records]
            assert not misses, (name, lang, misses)
            seen[f"{name} [{lang}]"] = check_page(f"{name} [{lang}]", r, permit, public=public)

    pid = permit_type
    # --- the public pages ------------------------------------------------------------------
    await every_language("catalog", lambda lang: visitor[lang].get("/"), public=True)
    await every_language("standard", lambda lang: visitor[lang].get(f"/permits/{pid}"), public=True)
    for lang in ("id", "en"):
        r = await visitor[lang].get(f"/permits/{pid}/route.svg?lang={lang}")
        assert r.status_code == 200
        svg = visible_text(r.text)
        assert not cel_operators(svg, permit) and not leaks(svg), (lang, svg)
        assert ("Alur" in svg) == (lang == "id") and ("Route" in svg) == (lang == "en")
    await every_language(
        "simulator", lambda lang: visitor[lang].get(f"/permits/{pid}/simulate"), public=True
    )
    await every_language(
        "simulated fee",
        lambda lang: visitor[lang].post(f"/permits/{pid}/simulate", journey["simulate"]),
        public=True,
    )
    await every_language(
        "simulator refused",
        lambda lang: visitor[lang].post(f"/permits/{pid}/simulate", journey["bad"]),
        public=True,
    )
    await every_language(
        "application form", lambda lang: visitor[lang].get(f"/permits/{pid}/apply"), public=True
    )
    bad_form = {**_form(journey["form"]), **journey["bad"]}
    await every_language(
        "application refused",
        lambda lang: visitor[lang].post(f"/permits/{pid}/apply", bad_form),
        public=True,
    )
    r = await visitor["id"].post(f"/permits/{pid}/apply", _form(journey["form"]))
    assert r.status_code == 201, r.text
    check_page("submitted", r, permit, public=True)
    reg = re.search(r'data-testid="registration-number">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    code = re.search(r'data-testid="access-code">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    first = journey["first"]
    await _task_open(api, reg, first)

    def track(lang: str) -> Awaitable[httpx.Response]:
        return visitor[lang].post("/track", {"registration_number": reg, "access_code": code})

    await every_language(
        "wrong access code",
        lambda lang: visitor[lang].post("/track", {"registration_number": reg, "access_code": "x"}),
        public=True,
    )
    await every_language(
        "no such page", lambda lang: visitor[lang].get("/permits/NOPE"), public=True
    )
    assert "tidak ada permohonan dengan nomor" in seen["wrong access code [id]"]
    assert "no application with this registration number" in seen["wrong access code [en]"]

    # --- returned for corrections, corrected, reassigned, extended, decided --------------
    task = f"/staff/tasks/{reg}/{first}"
    await every_language("task (open)", lambda lang: staff[lang].get(task), public=False)
    await every_language("inbox", lambda lang: staff[lang].get("/staff/inbox"), public=False)
    await every_language("workload", lambda lang: bosses[lang].get("/supervisor"), public=False)
    r = await staff["id"].post(f"{task}/claim")
    assert r.status_code == 303
    note = "Lampirkan dokumen yang terbaca jelas."
    r = await staff["id"].post(f"{task}/decide", {"outcome": "return", "note": note})
    assert r.status_code == 303, r.text
    await every_language("tracking (returned)", track, public=True)
    assert seen["tracking (returned) [id]"].count(note) == 1  # the staff note, once
    r = await api.http.post(
        f"/api/public/applications/{reg}/resubmit",
        json={"access_code": code, "note": "Sudah diperbaiki", "form": journey["correct"]},
        headers=idempotent(),
    )
    assert r.status_code == 200, r.text
    r = await boss.post(
        "/supervisor/reassign",
        {"task": f"{reg}/{first}", "to": staff_name, "reason": "Pembagian beban"},
    )
    assert r.status_code == 200, r.text
    r = await boss.post(
        f"/supervisor/tasks/{reg}/{first}/extend", {"extra": "1d", "reason": "Berkas tebal"}
    )
    assert r.status_code == 303, r.text
    r = await staff["id"].post(f"{task}/decide", {"outcome": "approve", "note": "Lengkap"})
    assert r.status_code == 303, r.text
    await every_language("task (decided)", lambda lang: staff[lang].get(task), public=False)
    assert 'data-testid="decided-at"' in (await staff["id"].get(task)).text
    # Deciding again: the refusal names the step, not its id.
    own = next(s.name for s in permit.steps if s.id == first)
    r = await staff["id"].post(f"{task}/decide", {"outcome": "approve", "note": ""})
    assert r.status_code == 409
    error = visible_text(re.search(r'data-testid="error">([^<]*)<', r.text).group(0))  # type: ignore[union-attr]
    assert own in error and f"'{first}'" not in error, error
    assert "jam kerja tersisa" not in seen["task (decided) [id]"]
    for value in journey["correct"].values():
        if isinstance(value, float):  # the corrected 725.5 m² reads 725,5
            assert number(value) in seen["task (decided) [id]"] and "," in number(value)
    assert "working hours left" not in seen["task (decided) [en]"]
    await every_language("tracking (corrected)", track, public=True)
    await every_language(
        "audit trail", lambda lang: inspector[lang].get(f"/applications/{reg}"), public=False
    )
    await every_language("monitoring", lambda lang: inspector[lang].get("/monitor"), public=False)
    await every_language("SLA", lambda lang: inspector[lang].get("/monitor/sla"), public=False)
    audit = seen["audit trail [id]"]
    assert audit.count(note) == 1  # the return's note, not again on its decision
    corrected = ", ".join(
        permit.form[f].label for f in sorted(journey["correct"]) if f in permit.form
    )
    assert corrected in audit
    # Step ids repeat across permit types: the trail names this permit's steps.
    others = {
        s.name
        for p in api.services.catalog.permits.values()
        if p.id != permit_type
        for s in p.steps
        if s.id == first and s.name != own
    }
    assert own in audit and not [n for n in others if n in audit]
    for b in (*visitor.values(), *staff.values(), *inspector.values(), *bosses.values()):
        await b.close()


async def test_readable_values_on_the_pages(api: Api) -> None:
    """Spot checks of the words that replace ids, expressions and floats."""
    b = Browser.open(api)
    text = visible_text((await b.get("/permits/PBG")).text)
    assert "hanya jika bukan rumah tinggal MBR" in text
    assert "0,035" in text and "4.500.000" in text and "0.035" not in text
    assert "dibulatkan ke bawah ke kelipatan Rp 100" in text
    html = (await b.get("/permits/PBG")).text
    # The formula stays for those who recompute, under "rumus".
    assert 'class="rumus"' in html and "building_use == &#34;usaha&#34;" in html
    everything = visible_text(html, drop_class="-")
    assert "!is_mbr" in everything and "rumus" in everything
    r = await b.get("/permits/PBG/simulate")
    assert ">Sosial dan budaya</option>" in r.text and ">sosial_budaya<" not in r.text
    r = await b.post("/permits/PBG/simulate", {"building_use": "usaha", "building_area_m2": "0"})
    assert r.status_code == 422
    assert "di luar batas yang diizinkan (1–1.000.000)" in visible_text(r.text)
    assert "Input should" not in r.text
    await _as_language(b, "en")
    r = await b.post("/permits/PBG/simulate", {"building_use": "usaha", "building_area_m2": "0"})
    assert "out of the allowed range" in r.text and "Input should" not in r.text
    text = visible_text((await b.get("/permits/PBG")).text)
    assert "only when not a low-income (MBR) house" in text
    await b.close()


def test_the_checks_see_cel_and_leaks_outside_rumus_only() -> None:
    permit = load_catalog(PROJECT_ROOT / "definitions").permit("PBG")
    rumus = (
        '<details class="rumus"><summary>rumus</summary><code>!is_mbr &amp;&amp; x</code></details>'
    )
    clean = f"<p>hanya jika bukan rumah MBR {rumus}</p><p>Kajian (bangunan &gt; 500 m²)</p>"
    assert not cel_operators(visible_text(clean), permit) and not leaks(visible_text(clean))
    for raw in (
        "!is_mbr",
        "building_area_m2 &gt; 500.0",
        "a == b",
        'building_use == "usaha" ? ibg_usaha : ibg_hunian',
        "fence_length_m &gt;0",
    ):
        assert cel_operators(visible_text(f"<li>hanya jika <code>{raw}</code></li>"), permit), raw
    for raw in ("['site_address']", "25.0", "0.035", "725.5", "dpupr/tpa", "sosial_budaya", "None"):
        assert leaks(visible_text(f"<dd>{raw}</dd>")), raw
    assert not leaks(visible_text("<dd>4.500.000 · 0,035 · 725,5 · Rp 1.250.000 · 127.0.0.1</dd>"))
