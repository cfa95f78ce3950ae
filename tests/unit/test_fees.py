"""Published fees (``loket.fees``): every billed amount must be reproducible by hand from the
published formula and its tariff parameters, so these tests recompute it independently
(``Decimal`` arithmetic on the parameters as published) instead of trusting the CEL result.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from loket.fees import FeeSchedule, Rounding, assess, round_rupiah
from loket.route.form import normalize
from loket.route.loader import load_catalog
from loket.route.model import PermitType
from loket.settings import PROJECT_ROOT

CATALOG = load_catalog(PROJECT_ROOT / "definitions")
PBG = CATALOG.permit("PBG")
USE_INDEX = {
    "hunian": "ibg_hunian",
    "usaha": "ibg_usaha",
    "sosial_budaya": "ibg_sosial",
    "keagamaan": "ibg_keagamaan",
}


def pbg_form(**overrides: Any) -> dict[str, Any]:
    submitted: dict[str, Any] = {
        "applicant_name": "Budi",
        "applicant_nik": "3316000000000002",
        "site_address": "Jl. Gatot Subroto 2, Blora",
        "building_use": "usaha",
        "building_area_m2": 750,
        "floors": 2,
    }
    submitted.update(overrides)
    return submitted


def param(permit: PermitType, name: str) -> Decimal:
    return Decimal(str(permit.fees.parameters[name].value))


def by_hand_building(area: str, use: str) -> int:
    """LLt x SHST x It x Ilo x Ibg, rounded down to Rp100, as PBG's formula_text publishes."""
    value = (
        Decimal(area)
        * param(PBG, "shst")
        * param(PBG, "it")
        * param(PBG, "ilo")
        * param(PBG, USE_INDEX[use])
    )
    return int((value / 100).to_integral_value(rounding=ROUND_FLOOR) * 100)


@pytest.mark.parametrize(
    ("area", "use"),
    [("750", "usaha"), ("120", "hunian"), ("36.5", "hunian"), ("1234.75", "sosial_budaya")],
)
def test_pbg_building_retribution_is_the_published_formula(area: str, use: str) -> None:
    data = normalize(PBG, pbg_form(building_area_m2=float(area), building_use=use))
    bill = assess(PBG.fees, data)
    (line,) = bill.lines
    assert line.id == "building" and not line.waived
    assert line.amount == by_hand_building(area, use)
    assert bill.total == line.amount
    assert bill.parameters["shst"] == 4_500_000.0  # the bill shows the parameters it used


def test_pbg_worked_example() -> None:
    # 750 m² x Rp4.500.000 x 0,035 x 0,5 x 0,7 = Rp41.343.750, rounded down to Rp41.343.700.
    bill = assess(PBG.fees, normalize(PBG, pbg_form()))
    assert bill.total == 41_343_700


def test_pbg_fence_is_volume_times_unit_price_and_only_when_there_is_a_fence() -> None:
    without = assess(PBG.fees, normalize(PBG, pbg_form(building_use="hunian", fence_length_m=0)))
    assert [line.id for line in without.lines] == ["building"]
    with_fence = assess(
        PBG.fees, normalize(PBG, pbg_form(building_use="hunian", fence_length_m=24.5))
    )
    fence = {line.id: line for line in with_fence.lines}["fence"]
    expected = Decimal("24.5") * param(PBG, "fence_price_m")
    assert fence.amount == int((expected / 100).to_integral_value(rounding=ROUND_FLOOR) * 100)
    assert fence.amount == 4_287_500
    assert with_fence.total == by_hand_building("750", "hunian") + fence.amount


def test_mbr_waiver_gives_zero_and_names_its_basis() -> None:
    data = normalize(
        PBG, pbg_form(building_use="hunian", building_area_m2=36, is_mbr=True, fence_length_m=10)
    )
    bill = assess(PBG.fees, data)
    assert bill.total == 0 and not bill.free
    assert [line.id for line in bill.lines] == ["building", "fence"]
    for line in bill.lines:
        assert line.waived and line.amount == 0
        assert line.waiver_basis is not None and "MBR" in line.waiver_basis
        assert "PP 16/2021" in line.waiver_basis


def test_keagamaan_building_pays_nothing_without_a_waiver() -> None:
    bill = assess(PBG.fees, normalize(PBG, pbg_form(building_use="keagamaan")))
    (line,) = bill.lines
    assert line.amount == 0 and not line.waived and line.waiver_basis is None
    assert bill.total == 0


def test_free_license_says_so() -> None:
    sip = CATALOG.permit("SIP")
    bill = assess(sip.fees, {"profession": "bidan"})
    assert bill.free and bill.total == 0 and bill.lines == []
    assert bill.free_basis == sip.fees.free_basis and bill.free_basis


@pytest.mark.parametrize("months", [1, 6, 12])
def test_ptka_is_months_times_monthly_rate(months: int) -> None:
    ptka = CATALOG.permit("PTKA")
    data = normalize(
        ptka,
        {"employer_name": "PT A", "worker_name": "X", "position": "Engineer", "months": months},
    )
    assert data["months"] == months and isinstance(data["months"], int)
    bill = assess(ptka.fees, data)
    assert bill.total == months * int(param(ptka, "monthly_rate"))


# --- rounding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "to", "mode", "expected"),
    [
        (1234.5, 1, "half_up", 1235),
        (1234.4999, 1, "half_up", 1234),
        (1234.5, 1, "down", 1234),
        (1234.01, 1, "up", 1235),
        (41_343_750.0, 100, "half_up", 41_343_800),
        (41_343_749.99, 100, "half_up", 41_343_700),
        (41_343_750.0, 100, "down", 41_343_700),
        (41_343_701.0, 100, "up", 41_343_800),
        (41_343_700.0, 100, "up", 41_343_700),
        (2.675, 1, "half_up", 3),
        # 100 x 1.15 is 114.99999999999999 in binary; by hand it is 115, so 115 it is.
        (100 * 1.15, 1, "down", 115),
        (100 * 1.15, 1, "up", 115),
        (0.1 + 0.2, 1, "up", 1),  # 0.30000000000000004 is still a fraction
        (123_456_789_012.5, 1, "half_up", 123_456_789_013),
        (0.0, 1000, "up", 0),
    ],
)
def test_rounding_modes(value: float, to: int, mode: str, expected: int) -> None:
    assert round_rupiah(value, Rounding.model_validate({"to": to, "mode": mode})) == expected


def test_binary_noise_never_changes_a_bill() -> None:
    schedule = FeeSchedule.model_validate(
        {
            "parameters": {"index": {"value": 1.15, "source": "test"}},
            "items": [{"id": "a", "name": "A", "formula": "area * index"}],
            "rounding": {"to": 1, "mode": "down"},
        }
    )
    assert assess(schedule, {"area": 100.0}).total == 115


def test_rounding_applies_to_each_line() -> None:
    schedule = FeeSchedule.model_validate(
        {
            "parameters": {"rate": {"value": 0.5, "source": "test"}},
            "items": [
                {"id": "a", "name": "A", "formula": "x * rate"},
                {"id": "b", "name": "B", "formula": "x * rate"},
            ],
            "rounding": {"to": 10, "mode": "half_up"},
        }
    )
    bill = assess(schedule, {"x": 25.0})  # 12.5 -> 10 per line, not 25 -> 30 in total
    assert [line.amount for line in bill.lines] == [10, 10] and bill.total == 20


# --- items --------------------------------------------------------------------------------


def _schedule(**item: Any) -> FeeSchedule:
    return FeeSchedule.model_validate(
        {"items": [{"id": "item", "name": "Item", **item}], "rounding": {"to": 1}}
    )


def test_fixed_amount_item_and_applies_when() -> None:
    schedule = _schedule(amount=50_000, applies_when="copies > 0")
    assert assess(schedule, {"copies": 0}).lines == []
    assert assess(schedule, {"copies": 2}).total == 50_000


def test_negative_formula_result_bills_zero() -> None:
    assert assess(_schedule(formula="x - 10.0"), {"x": 3.0}).total == 0


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"amount": 1, "formula": "1.0"}, "exactly one of 'amount' or 'formula'"),
        ({}, "exactly one of 'amount' or 'formula'"),
        ({"amount": 1, "waived_when": "x"}, "a waiver needs its 'waiver_basis'"),
        ({"amount": -1}, "greater than or equal to 0"),
    ],
)
def test_bad_fee_items_are_refused(item: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _schedule(**item)


def test_free_needs_its_basis_and_paid_needs_items() -> None:
    with pytest.raises(ValidationError, match="names the rule that makes it free"):
        FeeSchedule.model_validate({"free": True})
    with pytest.raises(ValidationError, match="give fee items"):
        FeeSchedule.model_validate({})


def test_an_amount_beyond_bigint_is_refused_naming_the_fields() -> None:
    from loket.fees import MAX_AMOUNT, AmountOutOfRange

    data = dict(normalize(PBG, pbg_form(fence_length_m=10)))
    for huge in (1e20, 1e300, float("inf")):
        with pytest.raises(AmountOutOfRange) as caught:
            assess(PBG.fees, {**data, "fence_length_m": huge})
        assert caught.value.item == "fence" and caught.value.fields == ("fence_length_m",)
    with pytest.raises(OverflowError):
        round_rupiah(float(MAX_AMOUNT) * 4, Rounding())
    with pytest.raises(OverflowError):
        round_rupiah(float("nan"), Rounding())
    # The bounds of the published form keep every accepted value billable.
    worst = normalize(PBG, pbg_form(building_area_m2=1_000_000, fence_length_m=100_000))
    assert assess(PBG.fees, worst).total <= MAX_AMOUNT
