"""``syndicate health``: what a supervisor needs to know, without touching the daemon."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from .config import Config
from .lock import is_held, lock_path, read_holder
from .model import RunOutcome
from .store import Store
from .timeutil import now_utc, parse_duration


def consecutive_failures(store: Store, job: str, limit: int) -> int:
    n = 0
    for outcome in store.finished_outcomes(job, limit):
        if outcome != RunOutcome.ERROR:
            break
        n += 1
    return n


def check(cfg: Config, store: Store) -> tuple[list[str], list[str]]:
    if store.engine.dialect.name == "postgresql":
        return _check_cluster(cfg, store)
    problems: list[str] = []
    lines: list[str] = []
    path = lock_path(cfg)
    if is_held(path):
        holder = read_holder(path) or {}
        lines.append(f"daemon running: pid {holder.get('pid')} on {holder.get('host')}")
    else:
        problems.append("the daemon is not running (no process holds " + str(path) + ")")
    health_file = Path(cfg.daemon.health_file)
    try:
        info = json.loads(health_file.read_text(encoding="utf-8"))
        beat = datetime.fromisoformat(info["heartbeat"])
        age = (now_utc() - beat).total_seconds()
        lines.append(f"heartbeat {age:.0f}s ago ({health_file})")
        if not problems and age > parse_duration(cfg.daemon.stale_after).total_seconds():
            problems.append(f"no heartbeat for {age:.0f}s: the daemon looks stuck")
    except (OSError, ValueError, KeyError):
        if not problems:
            problems.append(f"no readable health file at {health_file}")
    problems += _job_failures(cfg, store)
    return problems, lines


def _job_failures(cfg: Config, store: Store) -> list[str]:
    problems = []
    for name in cfg.jobs:
        failures = consecutive_failures(store, name, cfg.daemon.max_failures)
        if failures >= cfg.daemon.max_failures:
            problems.append(f"job {name} failed {failures} times in a row")
    return problems


def _check_cluster(cfg: Config, store: Store) -> tuple[list[str], list[str]]:
    """PostgreSQL: daemons may run on other machines; the store knows who leads."""
    from .cluster.overview import report

    rep = report(cfg, store, now_utc())
    return rep.problems + _job_failures(cfg, store), rep.lines()
