from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from syndicate.errors import DateError, SlugError
from syndicate.slugs import slugify
from syndicate.timeutil import parse_date, parse_duration

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2022-02-10 11:48:47 +0800", "2022-02-10T11:48:47+08:00"),
        ("2022-02-10 11:48:47 +08:00", "2022-02-10T11:48:47+08:00"),
        ("2022-02-10T11:48:47+0800", "2022-02-10T11:48:47+08:00"),
        ("2022-02-10 03:48:47 Z", "2022-02-10T03:48:47+00:00"),
        ("2022-02-10 11:48:47", "2022-02-10T11:48:47+08:00"),
        ("2022-02-10 11:48", "2022-02-10T11:48:00+08:00"),
        ("2022-02-10", "2022-02-10T00:00:00+08:00"),
        ("2022-2-3 1:02:03 -0500", "2022-02-03T01:02:03-05:00"),
        ("2022-02-10 11:48:47.250 +0800", "2022-02-10T11:48:47.250000+08:00"),
    ],
)
def test_parse_date_strings(value, iso):
    assert parse_date(value, SH).isoformat() == iso


def test_parse_date_yaml_values():
    # what PyYAML hands over: aware datetime, naive datetime, date
    aware = datetime(2022, 2, 10, 3, 48, 47, tzinfo=UTC)
    assert parse_date(aware, SH) is aware
    assert parse_date(datetime(2022, 2, 10, 11, 48), SH).utcoffset() == timedelta(hours=8)
    assert parse_date(date(2022, 2, 10), SH).isoformat() == "2022-02-10T00:00:00+08:00"


@pytest.mark.parametrize("value", ["yesterday", "2022-13-01", "2022-02-30 10:00", 12345, ""])
def test_parse_date_rejects(value):
    with pytest.raises(DateError):
        parse_date(value, SH)


def test_instant_is_the_same_whatever_the_offset():
    a = parse_date("2022-02-10 11:48:47 +0800", SH)
    b = parse_date("2022-02-10 03:48:47 Z", SH)
    assert a == b


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("网信中国", "wangxinzhongguo"),
        ("宏观经济", "hongguanjingji"),
        ("wangxinzhongguo", "wangxinzhongguo"),
        ("Tech News", "tech-news"),
        ("5G 网络", "5g-wangluo"),
        ("Café", "cafe"),
    ],
)
def test_slugify(name, slug):
    assert slugify(name) == slug


@pytest.mark.parametrize("name", ["../../etc", "a/b", "..", "", "   ", "x\x00y", "!!!"])
def test_slugify_refuses(name):
    with pytest.raises(SlugError):
        slugify(name)


def test_durations():
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("1d") == timedelta(days=1)
    with pytest.raises(ValueError):
        parse_duration("soon")
