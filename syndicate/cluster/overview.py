"""What ``syndicate status`` and ``syndicate health`` say about a cluster on PostgreSQL.

The leader is the server's answer (who holds the advisory lock); standbys
and workers are the ``nodes`` rows their heartbeats keep fresh; queue depth
is read from Procrastinate's jobs. A queue is stuck when a task has waited
longer than ``daemon.stuck_after``, or tasks are running with no worker
alive to run them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..config import Config
from ..store import Store
from ..store.records import LeaderRecord, NodeRecord, QueueCount
from ..timeutil import parse_duration
from .nodes import BEAT

FORGET_AFTER = timedelta(hours=1)  # rows silent this long are removed
ALIVE_WITHIN = timedelta(seconds=3 * BEAT)  # a row fresher than this is a live process


@dataclass
class ClusterReport:
    leader: LeaderRecord | None
    nodes: list[NodeRecord]
    queue: list[QueueCount] | None
    now: datetime
    problems: list[str] = field(default_factory=list)

    def alive(self, node: NodeRecord) -> bool:
        return self.now - node.heartbeat_at <= ALIVE_WITHIN

    @property
    def standbys(self) -> list[NodeRecord]:
        return [n for n in self.nodes if n.kind == "run" and n.role == "standby" and self.alive(n)]

    @property
    def workers(self) -> list[NodeRecord]:
        return [n for n in self.nodes if n.kind == "worker"]

    def lines(self) -> list[str]:
        out = []
        if self.leader is None:
            out.append("leader: none")
        else:
            since = self.leader.since.isoformat(" ", "seconds") if self.leader.since else "?"
            out.append(f"leader: pid {self.leader.pid} on {self.leader.host}, since {since}")
        for n in self.standbys:
            out.append(f"standby: pid {n.pid} on {n.host}, since {_at(n.role_since)}")
        for n in self.workers:
            age = (self.now - n.heartbeat_at).total_seconds()
            state = "" if self.alive(n) else " (silent: gone?)"
            out.append(f"worker: pid {n.pid} on {n.host}, last heartbeat {age:.0f}s ago{state}")
        if self.queue is None:
            out.append("queue: none (run `syndicate store upgrade` to add it)")
        elif not self.queue:
            out.append("queue: empty")
        for q in self.queue or []:
            wait = f", oldest {(self.now - q.oldest).total_seconds():.0f}s" if q.oldest else ""
            out.append(f"queue: {q.task} {q.status} {q.count}{wait}")
        return out


def _at(when: datetime) -> str:
    return when.isoformat(" ", "seconds")


def report(cfg: Config, store: Store, now: datetime) -> ClusterReport:
    rep = ClusterReport(
        leader=store.current_leader(),
        nodes=store.list_nodes(now=now, forget_after=FORGET_AFTER),
        queue=store.queue_counts(),
        now=now,
    )
    if rep.leader is None:
        rep.problems.append("no `syndicate run` leads: nothing is scheduled")
    stuck = parse_duration(cfg.daemon.stuck_after)
    live_workers = [n for n in rep.workers if rep.alive(n)]
    for q in rep.queue or []:
        if q.status == "todo" and q.oldest is not None and now - q.oldest > stuck:
            rep.problems.append(
                f"queue stuck: {q.count} {q.task} task(s) waiting, the oldest for "
                f"{(now - q.oldest).total_seconds():.0f}s (is a worker running?)"
            )
        if q.status == "doing" and not live_workers:
            rep.problems.append(f"queue stuck: {q.count} {q.task} task(s) running, no worker alive")
    if cfg.daemon.execute == "queue" and rep.queue is None:
        rep.problems.append("daemon.execute is queue, but the store has no queue tables")
    return rep
