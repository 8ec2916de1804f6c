"""A throwaway PostgreSQL server for tests: Debian's server binaries, a temporary folder.

``.ci/run`` installs Debian's ``postgresql`` package; its binaries are under
``/usr/lib/postgresql/<version>/bin`` (the newest version found is used;
``SYNDICATE_PG_BIN`` names another folder). ``PgServer`` runs ``initdb`` into
a temporary folder (in /dev/shm when it has room: copying a database is
hundreds of files) and starts ``postgres`` on it, listening on a free port of
127.0.0.1 and on a Unix socket in that folder, nowhere else; every local
and loopback connection is trusted (user ``postgres``, no password). Settings
are for speed, never for durability: ``fsync``, ``synchronous_commit`` and
``full_page_writes`` off, autovacuum off, ``max_connections`` 200. The
cluster is made with the C locale (text sorts by code point, as SQLite's
``BINARY`` does) and the server's time zone is deliberately not UTC, so a
statement that leaned on the server's clock zone would show it. Postgres
refuses to run as root: as root (CI, containers) ``initdb`` and ``postgres``
run as ``nobody`` (``setpriv``), with the folder handed to it. ``stop()``
(or leaving the ``with`` block) shuts the server down at once and removes
the folder; a watchdog process does the same if the test process dies
without stopping it (SIGKILL, OOM), so no server outlives its tests.

Usable from any test, for a store or for several processes sharing one::

    with PgServer() as pg:                      # or the session fixture ``pg_server``
        pg.create_database("a")                 # empty; template="…" copies one
        url = pg.url("a")                       # postgresql+psycopg://postgres@127.0.0.1:port/a
        dsn = pg.dsn("a")                       # libpq conninfo (psycopg, procrastinate)
        with pg.connect("a") as conn: ...       # psycopg, autocommit
        pg.drop_database("a")                   # even while others are connected

``PgServer.start()`` raises ``PgUnavailable`` (with the reason) when there
are no binaries or the server does not come up; ``pg_server()`` and the
conftest fixtures turn that into a skip.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
import pytest
from psycopg import sql

from .smtp_server import free_port

BIN_ENV = "SYNDICATE_PG_BIN"  # a folder holding initdb and postgres, instead of Debian's
SUPERUSER = "postgres"
# not UTC: the store keeps instants as UTC itself, whatever the server's zone
SERVER_TIMEZONE = "Asia/Shanghai"
SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "autovacuum": "off",
    "max_connections": "200",
    "timezone": SERVER_TIMEZONE,
    "log_min_messages": "warning",
    "log_min_error_statement": "panic",  # the tests' own refused statements are not news
}
START_TIMEOUT = 30.0
# Run beside the server: when the test process dies without stopping it (SIGKILL, OOM),
# the pipe from it closes, and this ends the server and removes its folder (in memory).
WATCHDOG = """
import os, shutil, signal, sys, time
pid, root = int(sys.argv[1]), sys.argv[2]
sys.stdin.buffer.read()
try:
    os.kill(pid, signal.SIGQUIT)
    for _ in range(300):
        os.kill(pid, 0)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
except ProcessLookupError:
    pass
shutil.rmtree(root, ignore_errors=True)
"""


class PgUnavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why."""


def find_bindir() -> Path | None:
    """The folder of ``initdb`` and ``postgres``: ``$SYNDICATE_PG_BIN``, else Debian's newest."""
    if os.environ.get(BIN_ENV):
        return Path(os.environ[BIN_ENV])
    found = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        version = bindir.parent.name
        if re.fullmatch(r"\d+(\.\d+)?", version) and (bindir / "postgres").is_file():
            found.append((tuple(int(p) for p in version.split(".")), bindir))
    return max(found)[1] if found else None


def _as_nobody() -> list[str]:
    """The command prefix that drops root to ``nobody`` (exec, so the pid is postgres's own)."""
    entry = pwd.getpwnam("nobody")
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [
            setpriv,
            f"--reuid={entry.pw_uid}",
            f"--regid={entry.pw_gid}",
            "--clear-groups",
            "--",
        ]
    return ["runuser", "-u", "nobody", "--"]  # forks: stop() still signals postgres by its pid


def _scratch() -> str:
    """Where the cluster goes: memory (/dev/shm) when there is room, else /tmp.

    Every test copies a database, and a copy is hundreds of files: on a disk
    the file system's journal, not PostgreSQL, would be most of the time.
    """
    shm = Path("/dev/shm")
    try:
        st = os.statvfs(shm)
        if os.access(shm, os.W_OK | os.X_OK) and st.f_bavail * st.f_frsize > 1 << 30:
            return str(shm)
    except OSError:
        pass
    return "/tmp"


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, gid)


class PgServer:
    """One PostgreSQL cluster in a temporary folder, for as long as the tests need it."""

    host = "127.0.0.1"

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_bindir()
        self.root: Path | None = None
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)
        self._admin_conn: psycopg.Connection[Any] | None = None
        self._admin_lock = threading.Lock()
        self._watchdog: subprocess.Popen[bytes] | None = None

    # -- lifetime -----------------------------------------------------------

    @property
    def socket_dir(self) -> Path:
        assert self.root is not None, "the server is not started"
        return self.root / "sock"

    @property
    def log_path(self) -> Path:
        assert self.root is not None, "the server is not started"
        return self.root / "postgres.log"

    def start(self) -> PgServer:
        """initdb, then postgres; back once it answers. ``PgUnavailable`` if it cannot."""
        if self.bindir is None or not (self.bindir / "initdb").is_file():
            raise PgUnavailable(
                "the PostgreSQL tests need Debian's postgresql package (.ci/run installs it)"
                f" or {BIN_ENV} naming a folder with initdb and postgres"
            )
        # short: the socket's path must stay under 108 bytes
        self.root = Path(tempfile.mkdtemp(prefix="pg", dir=_scratch()))
        try:
            self._init()
            for attempt in range(5):  # somebody may take the free port in between
                self.port = free_port()
                if self._launch():
                    return self
                if "could not bind" not in self.log_tail() or attempt == 4:
                    raise PgUnavailable(f"postgres did not start: {self.log_tail()}")
            raise AssertionError("unreachable")
        except BaseException:
            self.stop()
            raise

    def _prefix(self) -> list[str]:
        return _as_nobody() if os.geteuid() == 0 else []

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        return env

    def _init(self) -> None:
        assert self.root is not None and self.bindir is not None
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            entry = pwd.getpwnam("nobody")
            _chown_tree(self.root, entry.pw_uid, entry.pw_gid)
        with (self.root / "initdb.log").open("wb") as out:
            done = subprocess.run(
                [
                    *self._prefix(),
                    str(self.bindir / "initdb"),
                    "--pgdata",
                    str(self.root / "data"),
                    "--username",
                    SUPERUSER,
                    "--auth",
                    "trust",
                    "--encoding",
                    "UTF8",
                    "--locale",
                    "C",
                    "--no-sync",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                env=self._env(),
                timeout=120,
            )
        if done.returncode != 0:
            why = (self.root / "initdb.log").read_text(errors="replace").strip()[-500:]
            raise PgUnavailable(f"initdb failed: {why}")
        # loopback and the socket only, trusted (initdb's file also allows replication)
        (self.root / "data" / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n", encoding="utf-8"
        )

    def _launch(self) -> bool:
        """Start postgres on ``self.port``; True once it answers, False if it exited."""
        assert self.root is not None and self.bindir is not None
        settings = {
            **SETTINGS,
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
        }
        args = [f"--{k}={v}" for k, v in settings.items()]
        log = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                [
                    *self._prefix(),
                    str(self.bindir / "postgres"),
                    "-D",
                    str(self.root / "data"),
                    *args,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                env=self._env(),
                start_new_session=True,  # a ^C to pytest reaches pytest; stop() ends the server
            )
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while True:  # bounded: ready when it answers a query
            if self.proc.poll() is not None:
                self.proc = None
                return False
            try:
                with self.connect(connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise PgUnavailable(
                        f"postgres did not answer in {START_TIMEOUT:.0f}s: {self.log_tail()}"
                    ) from None
                time.sleep(0.05)
                continue
            self._watchdog = subprocess.Popen(
                [sys.executable, "-c", WATCHDOG, str(self.proc.pid), str(self.root)],
                stdin=subprocess.PIPE,
                start_new_session=True,
            )
            return True

    def log_tail(self, chars: int = 500) -> str:
        try:
            return self.log_path.read_text(errors="replace").strip()[-chars:]
        except (OSError, AssertionError):
            return ""

    def stop(self) -> None:
        """Immediate shutdown (SIGQUIT: nothing here is worth a checkpoint), folder removed."""
        proc, self.proc = self.proc, None
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:  # first, so that it never signals a pid used again since
            watchdog.kill()
            watchdog.wait(timeout=15)
            if watchdog.stdin is not None:
                watchdog.stdin.close()
        if self._admin_conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._admin_conn.close()
            self._admin_conn = None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGQUIT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ------------------------------------------------------------

    def url(self, dbname: str = "postgres", *, socket: bool = False) -> str:
        """The SQLAlchemy URL of ``dbname`` (psycopg 3), over TCP or the Unix socket."""
        if socket:
            return f"postgresql+psycopg://{SUPERUSER}@/{dbname}?host={self.socket_dir}&port={self.port}"
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{dbname}"

    def dsn(self, dbname: str = "postgres") -> str:
        """The libpq conninfo of ``dbname`` (for psycopg itself, procrastinate, psql)."""
        return f"host={self.host} port={self.port} user={SUPERUSER} dbname={dbname}"

    def connect(self, dbname: str = "postgres", **kwargs: Any) -> psycopg.Connection[Any]:
        """A psycopg connection in autocommit mode (over the socket: the fastest way in)."""
        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user=SUPERUSER,
            dbname=dbname,
            autocommit=True,
            **kwargs,
        )

    def execute(
        self,
        statement: str | sql.Composable,
        params: Sequence[Any] | None = None,
        *,
        dbname: str = "postgres",
    ) -> list[tuple[Any, ...]]:
        """Run one statement (autocommit) and return its rows, if any."""
        if dbname == "postgres":
            with self._admin() as conn:
                cur = conn.execute(statement, params)  # type: ignore[arg-type]
                return cur.fetchall() if cur.description else []
        with self.connect(dbname) as conn:
            cur = conn.execute(statement, params)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

    @contextlib.contextmanager
    def _admin(self) -> Iterator[psycopg.Connection[Any]]:
        """The one connection to ``postgres`` kept for statements about databases.

        (A connection per statement would cost more than the statement: every
        test creates and drops a database.) One thread at a time; made again
        when the server ended it.
        """
        with self._admin_lock:
            if self._admin_conn is None or self._admin_conn.closed:
                self._admin_conn = self.connect()
            try:
                yield self._admin_conn
            except psycopg.OperationalError:
                self._admin_conn.close()
                self._admin_conn = None
                raise

    # -- databases ------------------------------------------------------------

    def create_database(self, name: str, template: str | None = None) -> str:
        """``CREATE DATABASE name`` (empty, or a copy of ``template``); the name.

        A copy is made file by file (PostgreSQL 15's ``STRATEGY FILE_COPY``):
        for databases this small, twice as fast as writing it through the WAL.
        """
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self._admin() as conn:
            if template is not None and conn.info.server_version >= 150000:
                statement += sql.SQL(" STRATEGY FILE_COPY")
            conn.execute(statement)
        return name

    def new_database(self, prefix: str = "db", template: str | None = None) -> str:
        """A database under a name not used before on this server; the name."""
        return self.create_database(f"{prefix}_{next(self._names)}", template)

    def drop_database(self, name: str, conn: psycopg.Connection[Any] | None = None) -> None:
        """Drop ``name`` if it exists, ending the connections still open to it.

        ``conn``: a connection (autocommit) of the caller's to do it on, e.g. a thread's.
        """
        with contextlib.nullcontext(conn) if conn is not None else self._admin() as conn:
            if conn.info.server_version >= 130000:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
                return
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


@contextlib.contextmanager
def pg_server() -> Iterator[PgServer]:
    """A started ``PgServer`` for the ``with`` block; the test is skipped if none can start."""
    server = PgServer()
    try:
        server.start()
    except PgUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()
