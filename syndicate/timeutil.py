"""Dates as Jekyll reads them, kept timezone-aware.

PyYAML only turns ``2022-02-10 11:48:47 +08:00`` into a datetime; the
``+0800`` form that Jekyll sites write is left as a string, and a value
without an offset comes back naive. Everything here ends up aware, with the
post's own offset kept for display and feeds.
"""

from __future__ import annotations

import re
import reprlib
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from .errors import DateError

_DATE_RE = re.compile(
    r"""^\s*
    (?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})
    (?:[T\s]+
      (?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,9}))?)?
      \s*(?P<tz>Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?
    )?\s*$""",
    re.VERBOSE | re.ASCII,  # \d is 0-9 only: int() would read other scripts' digits too
)


# Years a post may carry. Python's datetime stops at 1 and 9999, and an offset
# pushes an edge date past either end when it is turned into UTC; feed and mail
# date formats assume four-digit years.
MIN_YEAR, MAX_YEAR = 1900, 9998


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60


def _shown(value: object) -> str:
    """The value as given, cut short: it may be a 100,000-item list."""
    if isinstance(value, datetime):
        return repr(value.isoformat(" "))
    if isinstance(value, date):
        return repr(value.isoformat())
    return _REPR.repr(value)


def _checked(dt: datetime, value: object) -> datetime:
    if not MIN_YEAR <= dt.year <= MAX_YEAR:
        raise DateError(f"date out of range {_shown(value)} (years {MIN_YEAR} to {MAX_YEAR})")
    return dt


def _offset(text: str) -> tzinfo:
    if text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise DateError(f"offset out of range: {text!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_date(value: object, default_tz: tzinfo) -> datetime:
    """Read a front-matter or file-name date; naive values are local to the site."""
    if isinstance(value, datetime):
        return _checked(value if value.tzinfo else value.replace(tzinfo=default_tz), value)
    if isinstance(value, date):
        return _checked(datetime.combine(value, time(0, 0), tzinfo=default_tz), value)
    if not isinstance(value, str):
        raise DateError(f"not a date: {_shown(value)}")
    m = _DATE_RE.match(value)
    if not m:
        raise DateError(f"unparseable date {_shown(value)}")
    frac = (m["f"] or "0")[:6].ljust(6, "0")
    tz = _offset(m["tz"]) if m["tz"] else default_tz
    try:
        dt = datetime(
            int(m["y"]),
            int(m["m"]),
            int(m["d"]),
            int(m["H"] or 0),
            int(m["M"] or 0),
            int(m["S"] or 0),
            int(frac),
            tzinfo=tz,
        )
    except ValueError as exc:
        raise DateError(f"invalid date {_shown(value)}: {exc}") from None
    return _checked(dt, value)


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


def offset_minutes(dt: datetime) -> int:
    off = dt.utcoffset()
    return int(off.total_seconds() // 60) if off is not None else 0


def with_offset(instant_utc: datetime, minutes: int) -> datetime:
    """Put a stored UTC instant back into the offset the post was written in."""
    return instant_utc.astimezone(timezone(timedelta(minutes=minutes)))


# a weekly edition's slot (digest/periods.py), its archive page's name and its label
WEEK_SLOT_RE = re.compile(r"^(\d{4})-W(\d{2})$")


def week_slot(day: date) -> str:
    """The ISO week ``day`` falls in, as editions key it (``2026-W49``)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week_slot(slot: str) -> tuple[int, int] | None:
    """``week_slot`` read back as (ISO year, week); None for anything else (a day's slot)."""
    found = WEEK_SLOT_RE.match(slot)
    return (int(found.group(1)), int(found.group(2))) if found else None


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_duration(text: str) -> timedelta:
    """``30s``, ``15m``, ``2h``, ``1d`` (and ``1h30m``) as config files write them."""
    parts = re.findall(r"(\d+)\s*([smhdw])", text.strip().lower())
    if not parts or "".join(n + u for n, u in parts) != re.sub(r"\s+", "", text.strip().lower()):
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 15m, 2h, 1d)")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    total = timedelta()
    for n, u in parts:
        total += timedelta(**{unit[u]: int(n)})
    return total
