"""The leader's lock: a PostgreSQL advisory lock held by a connection of its own.

Invariants:

- The lock lives as long as the session that took it: a process that dies
  (however) closes its socket and the server drops the lock at once; a
  machine that vanishes is noticed by the server's TCP keepalives (10 s idle,
  then 3 probes 5 s apart: within 30 s) and, sooner, by
  ``idle_session_timeout``, which ends a session silent for ``IDLE_TIMEOUT``.
- The holder refreshes the session (one ``SELECT``) every poll; it counts as
  leader only until ``lease_deadline``, a monotonic instant computed from the
  *start* of its last successful refresh plus ``IDLE_TIMEOUT`` less a margin.
  Before that instant the server cannot have ended the session, so no other
  process can hold the lock; after it, the holder must stop acting even if it
  has not yet heard that the session is gone (a process stopped by SIGSTOP,
  a network that went silent). This is the fencing: a deposed leader never
  acts on a lease it cannot prove.
- The session's ``application_name`` names the holder (``run PID@HOST since``),
  so ``pg_locks`` joined with ``pg_stat_activity`` tells who leads without a
  table that a dead leader could leave stale.
"""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from ..logs import one_line

log = logging.getLogger("syndicate.leader")

# pg_try_advisory_lock(int4, int4): ('SYND', 1); pg_locks shows it with objsubid 2
LEADER_KEY = (0x53594E44, 1)
IDLE_TIMEOUT = 10.0  # seconds a silent session lives on the server
MARGIN = 3.0  # the lease ends this long before the server could end the session
_PREFIX = "syndicate run "


def application_name(pid: int, host: str, since: datetime) -> str:
    """``syndicate run PID@HOST YYYYmmddTHHMMSSZ`` in the 63 bytes PostgreSQL keeps."""
    stamp = since.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    room = 63 - len(_PREFIX) - len(str(pid)) - len(stamp) - 2
    return f"{_PREFIX}{pid}@{host[:room]} {stamp}"


def parse_application_name(name: str) -> tuple[str, int, datetime | None]:
    """(host, pid, since) from a name ``application_name`` made; since None when unreadable."""
    rest = name.removeprefix(_PREFIX)
    who, _, stamp = rest.rpartition(" ")
    pid_text, _, host = who.partition("@")
    try:
        since: datetime | None = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        since = None
    return host, int(pid_text) if pid_text.isdigit() else 0, since


class LeaderLock:
    """Try for the lock, keep it, tell how long it is certainly still ours."""

    def __init__(self, url: str, *, pid: int, host: str | None = None) -> None:
        self.url = url
        self.pid = pid
        self.host = host or socket.gethostname()
        self.engine = create_engine(
            url,
            poolclass=NullPool,
            connect_args={
                "connect_timeout": 5,
                # the client notices a vanished server, too: a write unanswered for
                # 10 s fails, and an idle socket is probed after 5 s
                "keepalives": 1,
                "keepalives_idle": 5,
                "keepalives_interval": 2,
                "keepalives_count": 3,
                "tcp_user_timeout": 10_000,
                "application_name": f"syndicate standby {pid}@{self.host}"[:63],
            },
        )
        self.conn: Connection | None = None
        self.held = False
        self.lease_deadline = 0.0
        self.since: datetime | None = None

    def _connect(self) -> Connection:
        if self.conn is None:
            conn = self.engine.connect()
            conn.execute(
                text(
                    "SELECT set_config('tcp_keepalives_idle', '10', false), "
                    "set_config('tcp_keepalives_interval', '5', false), "
                    "set_config('tcp_keepalives_count', '3', false), "
                    "set_config('idle_session_timeout', :idle, false), "
                    "set_config('statement_timeout', '5s', false)"
                ),
                {"idle": f"{int(IDLE_TIMEOUT * 1000)}ms"},
            )
            conn.commit()
            self.conn = conn
        return self.conn

    def _drop(self, why: str) -> None:
        if self.held:
            log.error("lost the leader's lock: %s", why)
        self.held = False
        self.lease_deadline = 0.0
        if self.conn is not None:
            try:
                self.conn.invalidate()
                self.conn.close()
            except SQLAlchemyError:
                pass
            self.conn = None

    def try_acquire(self, now: datetime) -> bool:
        """Take the lock if nobody holds it; True when this process leads from now on."""
        started = time.monotonic()
        try:
            conn = self._connect()
            got = bool(
                conn.execute(
                    text("SELECT pg_try_advisory_lock(:k1, :k2)"),
                    {"k1": LEADER_KEY[0], "k2": LEADER_KEY[1]},
                ).scalar()
            )
            if got:
                conn.execute(
                    text("SELECT set_config('application_name', :n, false)"),
                    {"n": application_name(self.pid, self.host, now)},
                )
            conn.commit()
        except SQLAlchemyError as exc:
            self._drop(one_line(str(getattr(exc, "orig", exc))))
            return False
        if got:
            self.held, self.since = True, now
            self.lease_deadline = started + IDLE_TIMEOUT - MARGIN
        return got

    def refresh(self) -> bool:
        """Prove the session (and so the lock) is still there; extends the lease."""
        if not self.held or self.conn is None:
            return False
        started = time.monotonic()
        try:
            still = self.conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() AND classid = :k1 AND objid = :k2 "
                    "AND objsubid = 2"
                ),
                {"k1": LEADER_KEY[0], "k2": LEADER_KEY[1]},
            ).scalar()
            self.conn.commit()
        except SQLAlchemyError as exc:
            self._drop(one_line(str(getattr(exc, "orig", exc))))
            return False
        if not still:
            self._drop("the server no longer shows it held")
            return False
        if time.monotonic() - started > IDLE_TIMEOUT - MARGIN:
            # the answer took so long that it proves nothing about now
            self._drop("the server answered too late to prove the lease")
            return False
        self.lease_deadline = started + IDLE_TIMEOUT - MARGIN
        return True

    def leading(self) -> bool:
        """True only while the lease is provably ours (checked before every act)."""
        return self.held and time.monotonic() < self.lease_deadline

    def release(self) -> None:
        if self.held and self.conn is not None:
            try:
                self.conn.execute(
                    text("SELECT pg_advisory_unlock(:k1, :k2)"),
                    {"k1": LEADER_KEY[0], "k2": LEADER_KEY[1]},
                )
                self.conn.commit()
            except SQLAlchemyError:
                pass
        self.held = False
        self._drop("released")
        self.engine.dispose()
