"""What processes on several machines share through the store: pacing, nodes, the queue.

- ``send_pace``: one row per relay with a ``rate``. Taking the next slot is
  one ``UPDATE … RETURNING`` on the database server's clock, so every worker
  on every machine draws from the same budget (a relay's limit is per
  account). SQLite (one machine) uses the same table with this machine's clock.
- ``nodes``: a row per running process, written by its heartbeat and removed
  when it stops; a killed process's row stays until it is pruned as stale.
- Who leads is read from ``pg_locks`` (the advisory lock of
  ``store/advisory.py``), never from a table a dead leader could leave behind.
- The queue's depth is read from Procrastinate's own tables.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, text, update

from .advisory import LEADER_KEY, parse_application_name
from .records import LeaderRecord, NodeRecord, QueueCount
from .schema import nodes, send_pace
from .wrapping import StoreBase

_PG_RESERVE = text(
    "WITH t AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now) "
    "UPDATE send_pace SET next_at = GREATEST(send_pace.next_at, t.now) + :interval "
    "FROM t WHERE send_pace.name = :name "
    "RETURNING send_pace.next_at - :interval - t.now"
)
_PG_LEADER = text(
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :k1 AND l.objid = :k2 "
    "AND l.objsubid = 2"
)
_PG_QUEUE = text(
    "SELECT j.task_name, j.status::text, count(*), "
    "min((SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id)) "
    "FROM procrastinate_jobs j WHERE j.status IN ('todo', 'doing') "
    "GROUP BY j.task_name, j.status ORDER BY j.task_name, j.status"
)
_PG_HAS_QUEUE = text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")


class ClusterMixin(StoreBase):
    # -- pacing ---------------------------------------------------------

    def reserve_send_slot(self, name: str, interval: float) -> float:
        """Take the relay's next slot: the seconds to wait before sending (0: now)."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                wait = conn.execute(_PG_RESERVE, {"name": name, "interval": interval}).scalar()
                if wait is None:  # the relay's first message: its row
                    conn.execute(
                        text(
                            "INSERT INTO send_pace (name, next_at) VALUES (:name, 0) "
                            "ON CONFLICT (name) DO NOTHING"
                        ),
                        {"name": name},
                    )
                    wait = conn.execute(_PG_RESERVE, {"name": name, "interval": interval}).scalar()
                return max(0.0, float(wait or 0.0))
            now = time.time()  # SQLite: one machine, one clock
            row = conn.execute(select(send_pace.c.next_at).where(send_pace.c.name == name)).scalar()
            at = max(now, float(row)) if row is not None else now
            if row is None:
                conn.execute(insert(send_pace).values(name=name, next_at=at + interval))
            else:
                conn.execute(
                    update(send_pace).where(send_pace.c.name == name).values(next_at=at + interval)
                )
            return at - now

    # -- nodes ----------------------------------------------------------

    def beat_node(self, node: NodeRecord) -> None:
        """Write (or refresh) the process's row."""
        with self.engine.begin() as conn:
            values = {
                "kind": node.kind,
                "host": node.host,
                "pid": node.pid,
                "started_at": node.started_at,
                "heartbeat_at": node.heartbeat_at,
                "role": node.role,
                "role_since": node.role_since,
            }
            res = conn.execute(update(nodes).where(nodes.c.id == node.id).values(**values))
            if not res.rowcount:
                conn.execute(insert(nodes).values(id=node.id, **values))

    def remove_node(self, node_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(nodes).where(nodes.c.id == node_id))

    def list_nodes(self, *, now: datetime, forget_after: timedelta) -> list[NodeRecord]:
        """Every process's row, after removing those silent for longer than ``forget_after``."""
        with self.engine.begin() as conn:
            conn.execute(delete(nodes).where(nodes.c.heartbeat_at < now - forget_after))
            rows = conn.execute(select(nodes).order_by(nodes.c.kind, nodes.c.id)).all()
        return [
            NodeRecord(
                id=r.id,
                kind=r.kind,
                host=r.host,
                pid=r.pid,
                started_at=r.started_at,
                heartbeat_at=r.heartbeat_at,
                role=r.role,
                role_since=r.role_since,
            )
            for r in rows
        ]

    # -- leader and queue (PostgreSQL) ------------------------------------

    def current_leader(self) -> LeaderRecord | None:
        """The process holding the leader's lock now (None: nobody; SQLite: never)."""
        with self.engine.connect() as conn:
            if conn.dialect.name != "postgresql":
                return None
            name = conn.execute(_PG_LEADER, {"k1": LEADER_KEY[0], "k2": LEADER_KEY[1]}).scalar()
        if name is None:
            return None
        host, pid, since = parse_application_name(str(name))
        return LeaderRecord(host=host, pid=pid, since=since)

    def has_queue(self) -> bool:
        """Whether Procrastinate's tables are in this store (PostgreSQL only)."""
        with self.engine.connect() as conn:
            if conn.dialect.name != "postgresql":
                return False
            return bool(conn.execute(_PG_HAS_QUEUE).scalar())

    def queue_counts(self) -> list[QueueCount] | None:
        """Waiting and running tasks per kind (None: no queue in this store)."""
        with self.engine.connect() as conn:
            if conn.dialect.name != "postgresql":
                return None
            if not conn.execute(_PG_HAS_QUEUE).scalar():
                return None
            rows = conn.execute(_PG_QUEUE).all()
        return [QueueCount(task=t, status=s, count=int(n), oldest=at) for t, s, n, at in rows]
