"""Keyset cursors (loket/store/paging.py): every key comes back as it went, and any other
text is either refused or the one spelling of a key (so a decoded cursor binds as it is)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loket.store import monitoring, paging

BIGINT = st.integers(min_value=-paging.BIGINT_MAX, max_value=paging.BIGINT_MAX)
KEYS = st.lists(st.none() | BIGINT, min_size=1, max_size=4).map(tuple)


@given(KEYS)
def test_a_key_round_trips(key: tuple[int | None, ...]) -> None:
    cursor = paging.encode(key)
    assert len(cursor) <= paging.MAX_CURSOR_LENGTH
    assert paging.decode(cursor, len(key)) == key


@given(KEYS, st.integers(min_value=1, max_value=5))
def test_the_wrong_arity_is_refused(key: tuple[int | None, ...], arity: int) -> None:
    if arity == len(key):
        return
    with pytest.raises(paging.CursorInvalid):
        paging.decode(paging.encode(key), arity)


@given(st.text(max_size=60) | st.binary(max_size=40).map(lambda b: b.hex()))
def test_any_text_is_refused_or_a_canonical_key(text: str) -> None:
    for arity in (1, 2, 4):
        try:
            key = paging.decode(text, arity)
        except paging.CursorInvalid:
            continue
        assert paging.encode(key) == text
        assert all(v is None or abs(v) <= paging.BIGINT_MAX for v in key)


@given(st.datetimes(timezones=st.just(UTC)))
def test_an_instant_round_trips_to_the_microsecond(at: datetime) -> None:
    assert paging.instant(paging.micros(at)) == at


@pytest.mark.parametrize("us", [paging.BIGINT_MAX, -paging.BIGINT_MAX, 10**18])
def test_an_instant_outside_the_calendar_is_refused(us: int) -> None:
    with pytest.raises(paging.CursorInvalid):
        paging.instant(us)


def test_an_alias_of_a_cursor_is_refused() -> None:
    cursor = paging.encode((1, 1))
    assert cursor == "MToxLDE"
    with pytest.raises(paging.CursorInvalid):
        paging.decode("MToxLDF", 2)  # decodes to the same bytes (stray low bits)


@given(st.tuples(st.none() | BIGINT, st.none() | BIGINT, st.none() | BIGINT, st.none() | BIGINT))
def test_a_stalled_cursor_binds_or_is_refused(key: tuple[int | None, ...]) -> None:
    """Whatever the stalled list's cursor decodes to fits its columns (no store error)."""
    try:
        run, a, b, task_id = monitoring.stalled_after(paging.encode(key))
    except paging.CursorInvalid:
        return
    level, due = (b, a) if run == 1 else (a, b)
    assert run in (1, 2) and task_id is not None and task_id >= 0
    assert level is not None and -(2**31) <= level < 2**31
    assert due is not None or run == 2
    if due is not None:
        paging.instant(due)
