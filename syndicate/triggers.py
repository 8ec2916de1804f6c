"""Triggers for the daemon, correct across daylight-saving changes.

APScheduler 3.11's CronTrigger skips the day after a spring-forward change
for a daily 00:00 job (Europe/Paris, America/Los_Angeles) and fires twice at
02:30 on fall-back. Here cron expressions are matched on the *wall clock*
(a timeline without DST), then mapped to the zone: every wall-clock time
fires once, an ambiguous time at its first occurrence, a time inside a
spring-forward gap right after the gap.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .timeutil import parse_duration

if TYPE_CHECKING:  # config validates cron expressions with cron_trigger: no cycle
    from .config import Config, JobConfig


def cron_trigger(expr: str, tz: tzinfo) -> CronTrigger:
    """5 fields as crontab writes them, or 6 with seconds first (for short test schedules)."""
    fields = expr.split()
    if len(fields) == 6:
        second, minute, hour, day, month, dow = fields
        return CronTrigger(
            second=second, minute=minute, hour=hour, day=day, month=month,
            day_of_week=dow, timezone=tz,
        )  # fmt: skip
    return CronTrigger.from_crontab(expr, timezone=tz)


class WallClockCronTrigger(BaseTrigger):
    def __init__(self, expr: str, tz: tzinfo) -> None:
        self.expr = expr
        self.tz = tz
        self._inner = cron_trigger(expr, UTC)

    def _wall(self, instant: datetime) -> datetime:
        return instant.astimezone(self.tz).replace(tzinfo=UTC, fold=0)

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        wall_prev = self._wall(previous_fire_time) if previous_fire_time else None
        candidate = self._inner.get_next_fire_time(wall_prev, self._wall(now))
        for _ in range(10_000):
            if candidate is None:
                return None
            # fold=0 picks an ambiguous time's first occurrence; the UTC round trip
            # moves a time inside a spring-forward gap to just after it
            real = candidate.replace(tzinfo=self.tz).astimezone(UTC).astimezone(self.tz)
            # compare instants in UTC: aware datetimes sharing a tzinfo compare by
            # wall time in Python, which is exactly what goes wrong around DST
            real_utc: datetime = real.astimezone(UTC)
            floor = (previous_fire_time if previous_fire_time is not None else now).astimezone(UTC)
            if real_utc > floor or (previous_fire_time is None and real_utc == floor):
                return real_utc
            # inside a repeated (fall-back) hour: move on to the next wall time
            candidate = self._inner.get_next_fire_time(
                candidate, candidate + timedelta(microseconds=1)
            )
        return None

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "expr": self.expr, "tz": str(self.tz)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["expr"], ZoneInfo(state["tz"]))  # type: ignore[misc]

    def __str__(self) -> str:
        return f"cron[{self.expr}, {self.tz}]"

    def __repr__(self) -> str:
        return f"<WallClockCronTrigger ({self.expr!r}, timezone={str(self.tz)!r})>"


def job_timezone(cfg: Config, job: JobConfig) -> ZoneInfo:
    return ZoneInfo(job.timezone or cfg.site.timezone)


def make_trigger(cfg: Config, job: JobConfig) -> BaseTrigger | None:
    """The APScheduler trigger for a job; None for ``after:`` jobs (run by their upstream)."""
    tz = job_timezone(cfg, job)
    if job.every:
        jitter = int(parse_duration(job.jitter).total_seconds()) if job.jitter else None
        return IntervalTrigger(
            seconds=int(parse_duration(job.every).total_seconds()), timezone=tz, jitter=jitter
        )
    if job.cron:
        return WallClockCronTrigger(job.cron, tz)
    if job.at:
        hour, minute = job.at.split(":")
        return WallClockCronTrigger(f"{int(minute)} {int(hour)} * * *", tz)
    return None


def latest_fire(cfg: Config, job: JobConfig, now: datetime) -> datetime | None:
    """The most recent scheduled time at or before ``now`` (within 8 days)."""
    trigger = make_trigger(cfg, job)
    if trigger is None or isinstance(trigger, IntervalTrigger):
        return None
    t = trigger.get_next_fire_time(None, now - timedelta(days=8))
    last = None
    while t is not None and t <= now:
        last = t
        t = trigger.get_next_fire_time(t, t)
    return last
