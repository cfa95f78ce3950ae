"""Formatting for pages: rupiah, local times, working time left. Pure functions."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from loket.calendar import CalendarRangeError, WorkCalendar


def rupiah(amount: int | float | None) -> str:
    """Rp 1.234.500: Indonesian thousands separators, whole rupiah."""
    if amount is None:
        return "-"
    return "Rp " + f"{round(amount):,}".replace(",", ".")


def _thousands(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


def number(value: Any) -> str:
    """A number as Indonesians write it: 4.500.000, 0,035, 12,5 (no float noise, no 25.0).

    The shortest decimal that reads back as the same double (its repr), so a parameter
    shows exactly the value the formula uses."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "-"
    if float(value).is_integer():
        return _thousands(value)
    text = format(Decimal(repr(value)), ",f")
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def yesno(value: Any, translate: Callable[[str], str]) -> str:
    """Booleans of a form as words; anything else as it is."""
    if value is True:
        return translate("yes")
    if value is False:
        return translate("no")
    return str(value)


def when(value: datetime | None, tz: timezone) -> str:
    """dd-mm-yyyy HH:MM in the mall's time zone, with the zone's name (WIB)."""
    if value is None:
        return "-"
    local = value.astimezone(tz)
    return f"{local:%d-%m-%Y %H:%M} {tz.tzname(None)}"


def day(value: date | None) -> str:
    """A calendar date as dd-mm-yyyy, the way Indonesian documents write it."""
    return value.strftime("%d-%m-%Y") if value else ""


def working_left(calendar: WorkCalendar, due: datetime | None, now: datetime) -> timedelta | None:
    """Working time until ``due`` (negative: overdue by that much); None when paused or
    when the instant lies outside the calendar's years (it cannot be counted)."""
    if due is None:
        return None
    try:
        if due >= now:
            return calendar.elapsed(now, due)
        return -calendar.elapsed(due, now)
    except (CalendarRangeError, ValueError):
        return None


def hours(value: timedelta | int | float | None) -> str:
    """Working time as H:MM (negative when overdue); templates add the word for hours."""
    if value is None:
        return "-"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    sign = "-" if seconds < 0 else ""
    minutes = int(abs(seconds) // 60)
    h, m = divmod(minutes, 60)
    return f"{sign}{h}:{m:02d}"


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}%"


FILTERS: dict[str, Callable[..., str]] = {
    "rupiah": rupiah,
    "number": number,
    "hours": hours,
    "percent": percent,
    "yesno": yesno,
}
