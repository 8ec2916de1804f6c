"""Daylight saving and slots: each wall-clock time fires once per day."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from syndicate.triggers import WallClockCronTrigger


def fires(trigger, start: datetime, n: int) -> list[datetime]:
    """The next n fire times, shown in the trigger's zone (they come back in UTC)."""
    out, prev, now = [], None, start
    for _ in range(n):
        nxt = trigger.get_next_fire_time(prev, now)
        out.append(nxt.astimezone(trigger.tz))
        prev = now = nxt
    return out


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Europe/Paris", datetime(2026, 3, 27, 12)),
        ("America/Los_Angeles", datetime(2026, 3, 6, 12)),
    ],
)
def test_midnight_is_not_skipped_after_spring_forward(zone, day):
    tz = ZoneInfo(zone)
    got = fires(WallClockCronTrigger("0 0 * * *", tz), day.replace(tzinfo=tz), 6)
    dates = [f.astimezone(tz).date() for f in got]
    assert dates == [(day + timedelta(days=i + 1)).date() for i in range(6)]
    assert all(f.astimezone(tz).hour == 0 for f in got)


def test_fall_back_hour_fires_once():
    tz = ZoneInfo("Europe/Paris")
    got = fires(WallClockCronTrigger("30 2 * * *", tz), datetime(2026, 10, 23, 12, tzinfo=tz), 4)
    assert [f.isoformat() for f in got] == [
        "2026-10-24T02:30:00+02:00",
        "2026-10-25T02:30:00+02:00",  # the first of the two 02:30s
        "2026-10-26T02:30:00+01:00",
        "2026-10-27T02:30:00+01:00",
    ]


def test_time_inside_the_gap_fires_right_after_it():
    tz = ZoneInfo("Europe/Paris")
    got = fires(WallClockCronTrigger("30 2 * * *", tz), datetime(2026, 3, 28, 12, tzinfo=tz), 2)
    assert got[0].isoformat() == "2026-03-29T03:30:00+02:00"
    assert got[1].isoformat() == "2026-03-30T02:30:00+02:00"


def test_started_inside_the_repeated_hour():
    tz = ZoneInfo("Europe/Paris")
    # 02:10 the second time (fold=1): the day's 02:30 already happened, next is tomorrow's
    now = datetime(2026, 10, 25, 2, 10, fold=1, tzinfo=tz)
    first = WallClockCronTrigger("30 2 * * *", tz).get_next_fire_time(None, now)
    assert first.astimezone(tz).isoformat() == "2026-10-26T02:30:00+01:00"


def test_shanghai_daily_and_seconds_field_and_pickle():
    tz = ZoneInfo("Asia/Shanghai")
    t = WallClockCronTrigger("0 8 * * *", tz)
    got = fires(t, datetime(2026, 11, 27, 9, tzinfo=tz), 2)
    assert [f.isoformat() for f in got] == [
        "2026-11-28T08:00:00+08:00",
        "2026-11-29T08:00:00+08:00",
    ]
    fast = WallClockCronTrigger("*/5 * * * * *", tz)
    assert fires(fast, datetime(2026, 11, 27, 9, 0, 1, tzinfo=tz), 2)[1].second == 10
    again = pickle.loads(pickle.dumps(t))
    assert again.get_next_fire_time(None, got[0]) == got[0]
