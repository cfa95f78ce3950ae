"""The SKM index rule (Permenpan RB 14/2017), property-tested against its definition."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loket.case.survey import ELEMENTS, survey_index

response = st.fixed_dictionaries({e: st.integers(1, 4) for e in ELEMENTS})
responses = st.lists(response, min_size=1, max_size=60)


def _by_definition(rs: list[dict[str, int]]) -> float:
    """IKM as the regulation writes it: the mean of the nine element averages, x 25."""
    averages = [sum(r[e] for r in rs) / len(rs) for e in ELEMENTS]
    return sum(averages) / len(averages) * 25


def _grade(ikm: float) -> str:
    # The regulation's intervals, written out: A 88.31-100, B 76.61-88.30, C 65.00-76.60,
    # D 25.00-64.99.
    if 88.31 <= ikm <= 100:
        return "A"
    if 76.61 <= ikm <= 88.30:
        return "B"
    if 65.00 <= ikm <= 76.60:
        return "C"
    assert 25.00 <= ikm <= 64.99
    return "D"


@given(responses)
def test_index_is_the_mean_of_element_averages_times_25(rs: list[dict[str, int]]) -> None:
    found = survey_index(rs)
    assert found is not None
    assert found.respondents == len(rs)
    assert abs(found.index - _by_definition(rs)) <= 0.005 + 1e-9
    assert 25 <= found.index <= 100
    assert found.grade == _grade(found.index)
    for e in ELEMENTS:
        assert found.element_averages[e] == sum(r[e] for r in rs) / len(rs)


@given(responses, st.integers(0, 59), st.sampled_from(ELEMENTS))
def test_a_better_rating_never_lowers_the_index(
    rs: list[dict[str, int]], which: int, element: str
) -> None:
    r = rs[which % len(rs)]
    better = [*rs]
    better[which % len(rs)] = {**r, element: min(4, r[element] + 1)}
    before, after = survey_index(rs), survey_index(better)
    assert before is not None and after is not None
    assert after.index >= before.index


def test_extremes_and_boundaries() -> None:
    assert survey_index([dict.fromkeys(ELEMENTS, 4)]).index == 100  # type: ignore[union-attr]
    assert survey_index([dict.fromkeys(ELEMENTS, 1)]).grade == "D"  # type: ignore[union-attr]
    # 3 everywhere: 75.00, grade C; one element at 4: 77.78, grade B.
    three = dict.fromkeys(ELEMENTS, 3)
    assert survey_index([three]).index == 75.0  # type: ignore[union-attr]
    lifted = survey_index([{**three, "waktu": 4}])
    assert lifted is not None and lifted.index == 77.78 and lifted.grade == "B"
    assert survey_index([]) is None
    with pytest.raises(ValueError, match="waktu"):
        survey_index([{**three, "waktu": 5}])
