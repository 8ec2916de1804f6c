"""Which runs left ``running`` are closed: only those whose process is gone from this host.

Real processes record the runs (a child that exits without finishing its run
is a killed collect, as far as the store can tell) in a real store.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from alembic import command
from sqlalchemy import select, text

from syndicate import store as store_mod
from syndicate.store import Store, open_store, process_start, runs, versions
from syndicate.timeutil import now_utc

from .conftest import ROOT


def outcome(store: Store, run_id: int) -> str:
    with store.connect() as conn:
        return str(conn.execute(select(runs.c.outcome).where(runs.c.id == run_id)).scalar())


def run_left_by_a_process_that_exits(store: Store) -> int:
    """A real process starts a run and exits without finishing it."""
    script = textwrap.dedent(
        f"""
        from syndicate.store import Store
        from syndicate.timeutil import now_utc
        print(Store({store.url!r}).start_run("collect", "collect", now_utc()), flush=True)
        import os; os._exit(0)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


def test_only_runs_of_gone_processes_are_closed(site):
    store = site.store()
    dead = run_left_by_a_process_that_exits(store)
    live = store.start_run("collect", "collect", now_utc())  # this process: alive
    elsewhere = store.start_run("collect", "collect", now_utc())
    reused = store.start_run("collect", "collect", now_utc())
    legacy = store.start_run("collect", "collect", now_utc())
    with store.begin() as conn:
        conn.execute(runs.update().where(runs.c.id == elsewhere).values(host="another-host"))
        # our pid, but a process that started at another time: the pid was reused
        start = process_start(os.getpid())
        if start is not None:
            conn.execute(runs.update().where(runs.c.id == reused).values(pid_started=start - 1))
        conn.execute(runs.update().where(runs.c.id == legacy).values(pid=None, host=None))
    closed = store.close_stale_runs()
    assert outcome(store, dead) == "interrupted"
    assert outcome(store, live) == "running"
    assert outcome(store, elsewhere) == "running"  # cannot be checked from here
    assert outcome(store, legacy) == "running"  # no owner recorded: left to the daemon
    assert outcome(store, reused) == ("interrupted" if start is not None else "running")
    assert closed == (2 if start is not None else 1)
    assert store.close_stale_runs() == 0  # idempotent
    # a daemon that just took the lock closes every run begun before it
    assert store.close_stale_runs(now_utc()) == 3
    store.finish_run(live, now_utc(), "ok", {})  # a live run still records its real end
    assert outcome(store, live) == "ok"


def test_schema_2_store_gains_the_run_owner_columns(site):
    store = site.store()
    old = store.start_run("collect", "collect", now_utc())
    # what revision 0007 adds goes by its own downgrade (its keys cannot be dropped by hand
    # on SQLite); the rest of what came after schema 2 is taken out by hand below
    sqlite = store.engine.dialect.name == "sqlite"
    engine = versions.migration_engine(store.url) if sqlite else store.engine
    with engine.begin() as conn:
        command.downgrade(versions._config(conn), "0006")
    if sqlite:
        engine.dispose()
    with store.begin() as conn:
        for column in ("pid", "host", "pid_started"):
            conn.execute(text(f"ALTER TABLE runs DROP COLUMN {column}"))
        # as the hand-written migrations left a version 2 store: no index, no Alembic table
        conn.execute(text("DROP INDEX ix_runs_outcome"))
        conn.execute(text("DROP TABLE alembic_version"))
        # and without what the revisions after 0003 add
        conn.execute(text("DROP INDEX ix_deliveries_message_id"))
        conn.execute(text("DELETE FROM meta WHERE key = 'signups-lock'"))
        for table in (
            "signups",
            "subscriber_events",
            "forgotten",
            "feedback",
            "send_pace",
            "nodes",
        ):
            conn.execute(text(f"DROP TABLE {table}"))
        for column in ("consent_method", "consent_page", "consent_ip", "consent_at"):
            conn.execute(text(f"ALTER TABLE subscribers DROP COLUMN {column}"))
        conn.execute(text("ALTER TABLE subscribers DROP COLUMN confirmed_at"))
        conn.execute(text("UPDATE meta SET value = '2' WHERE key = 'schema_version'"))
    store.close()
    Store(store.url).upgrade()  # what open_store does on SQLite; `store upgrade` elsewhere
    again = open_store(store.url)
    assert again.schema_version() == store_mod.SCHEMA_VERSION == int(store_mod.HEAD)
    with again.connect() as conn:
        row = conn.execute(select(runs).where(runs.c.id == old)).mappings().one()
    assert row["pid"] is None and row["outcome"] == "running"
    new = again.start_run("collect", "collect", now_utc())
    with again.connect() as conn:
        pid = conn.execute(select(runs.c.pid).where(runs.c.id == new)).scalar()
    assert pid == os.getpid()
