"""Simulated time: integer milliseconds since the Unix epoch, rendered as fixed-width ISO 8601 UTC.

Fixed width ("2026-06-30T22:00:00.000Z") keeps string order equal to time order.
"""
from __future__ import annotations

import datetime as dt

START_DATE = dt.date(2026, 6, 30)  # the simulated "today" at start-up, whatever the real date
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
END_OF_DAY_MS = 22 * HOUR_MS  # the clock stands at 22:00 UTC of the simulated date; events happen 06-22h
EPOCH = dt.date(1970, 1, 1)

_day_cache: dict[int, str] = {}


def day_number(d: dt.date) -> int:
    return (d - EPOCH).days


def date_of_day(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


def day_str(n: int) -> str:
    s = _day_cache.get(n)
    if s is None:
        s = _day_cache[n] = date_of_day(n).isoformat()
    return s


_HMS = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]
_MILLI = [f".{m:03d}Z" for m in range(1000)]


def iso_ms(ms: int) -> str:
    day, rem = divmod(int(ms), DAY_MS)
    sec, milli = divmod(rem, 1000)
    s = _day_cache.get(day) or day_str(day)
    return s + "T" + _HMS[sec] + _MILLI[milli]


def ms_of_date(d: dt.date) -> int:
    return day_number(d) * DAY_MS


def parse_iso(text: str) -> int:
    """ISO 8601 date-time (Z or offset, any fraction) or date -> epoch ms. Raises ValueError."""
    t = text.strip()
    if len(t) == 10:
        return ms_of_date(dt.date.fromisoformat(t))
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    # fromisoformat in 3.11 accepts any fraction length and offsets.
    value = dt.datetime.fromisoformat(t)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return round(value.timestamp() * 1000)


def stamp(ms: int) -> str:
    """Payroll export stamp YYYYMMDDTHHMMSS."""
    return iso_ms(ms)[:19].replace("-", "").replace(":", "")
