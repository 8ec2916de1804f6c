"""The throwaway PostgreSQL of the tests (``tests/pg_server.py``) is what its docstring says.

Loopback and its own socket only, the fast settings, a time zone that is not
UTC, never root; databases copied from a template and dropped while still
in use. Runs under ``make test`` too (``pg_only``), when the binaries exist.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from .pg_server import SERVER_TIMEZONE, PgServer

pytestmark = pytest.mark.pg_only


def test_settings_and_addresses(pg_server: PgServer) -> None:
    shown = {
        name: pg_server.execute(f"SHOW {name}")[0][0]
        for name in ("listen_addresses", "fsync", "synchronous_commit", "max_connections")
    }
    assert shown == {
        "listen_addresses": "127.0.0.1",
        "fsync": "off",
        "synchronous_commit": "off",
        "max_connections": "200",
    }
    assert pg_server.execute("SHOW TimeZone")[0][0] == SERVER_TIMEZONE != "UTC"
    assert (pg_server.socket_dir / f".s.PGSQL.{pg_server.port}").is_socket()
    with socket.create_connection((PgServer.host, pg_server.port), timeout=5):
        pass  # and TCP on loopback
    for url in (pg_server.url(), pg_server.url(socket=True)):
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT current_user")).scalar() == "postgres"
        finally:
            engine.dispose()


@pytest.mark.skipif(os.geteuid() != 0, reason="as another user it runs as that user")
def test_never_runs_as_root(pg_server: PgServer) -> None:
    assert pg_server.proc is not None
    status = Path(f"/proc/{pg_server.proc.pid}/status").read_text()
    uid = next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))
    assert uid != "0"
    assert "postgres" in Path(f"/proc/{pg_server.proc.pid}/cmdline").read_text()


def test_a_database_from_a_template_is_dropped_while_in_use(pg_server: PgServer) -> None:
    base = pg_server.new_database("tpl")
    pg_server.execute("CREATE TABLE t (x int)", dbname=base)
    pg_server.execute("INSERT INTO t VALUES (1), (2)", dbname=base)
    copy = pg_server.new_database("copy", template=base)
    assert pg_server.execute("SELECT sum(x) FROM t", dbname=copy) == [(3,)]
    engine = create_engine(pg_server.url(copy))
    conn = engine.connect()  # still open: the drop ends it
    try:
        pg_server.drop_database(copy)
        names = {n for (n,) in pg_server.execute("SELECT datname FROM pg_database")}
        assert copy not in names and base in names
    finally:
        conn.invalidate()
        engine.dispose()
    pg_server.drop_database(base)
    pg_server.drop_database(base)  # gone already: nothing to do


def test_stop_removes_everything() -> None:
    server = PgServer()
    with server:
        root, pid = server.root, server.proc.pid if server.proc else None
        assert root is not None and root.is_dir()
    assert not root.exists()
    assert pid is not None and not Path(f"/proc/{pid}").exists()
