"""Fixtures of every test: a temporary site, and the store the test runs against.

The suite runs against SQLite (``make test``) or PostgreSQL (``make test-pg``,
which sets ``SYNDICATE_TEST_STORE=postgresql``). Under PostgreSQL one server
(``tests/pg_server.py``) serves the whole session: a template database is
brought to the head once (by ``Store.upgrade``: the Alembic revisions
themselves), and every test gets a database of its own copied from it,
named by ``SYNDICATE_STORE_URL`` (``store.url_env``), so every config the
test loads, and every process it starts, uses that database instead of
the ``sqlite:///var/test.db`` the site's config names. The database is
dropped after the test.

Markers: ``sqlite_only("reason")`` for what only SQLite has (its files,
WAL, its pragmas): skipped under PostgreSQL with the reason. ``pg_only``
for what needs a server: such a test gets its PostgreSQL database in both
runs (the server starts on first use under ``make test`` too), and is
skipped with the reason when no server can be started here. Tests that
need a URL of their own use ``store_url`` (this test's store) or
``empty_store_url`` (one with no tables yet) rather than spelling out a
``sqlite:///`` path.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import shutil
import textwrap
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicate.config import Config, StoreConfig, load
from syndicate.store import Store, open_store

from .pg_server import PgServer
from .pg_server import pg_server as started_server

DATA = Path(__file__).parent / "data"
SEED = DATA / "000_d77b2b9e883b6d94.txt"
SEED_NAME = "2022-02-10-NW202202102272322133.md"
ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)

SITE_YAML = """\
site:
  title: 金融资讯网
  url: https://finews.withounder.com
  language: zh-CN
  timezone: Asia/Shanghai
sources:
  - name: local
    posts: site/_posts
store:
  url: sqlite:///var/test.db
"""


def config_text(categories: dict[str, str], rest: str = "") -> str:
    """The test site's config with these categories, then ``rest`` (more sections)."""
    cats = "".join(f"  {slug}: {name}\n" for slug, name in categories.items())
    return SITE_YAML + "categories:\n" + cats + rest


BASE_CONFIG = config_text({"caijing": "财经"})


class Site:
    """A temporary site: a posts folder, a config file and helpers to write posts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.posts = root / "site" / "_posts"
        self.posts.mkdir(parents=True)
        self.config_path = root / "schedule.yaml"
        self.config_path.write_text(BASE_CONFIG, encoding="utf-8")

    def write_config(self, text: str) -> None:
        self.config_path.write_text(textwrap.dedent(text), encoding="utf-8")

    def extend_config(self, text: str) -> None:
        with self.config_path.open("a", encoding="utf-8") as fh:
            fh.write(textwrap.dedent(text))

    def cfg(self) -> Config:
        return load(self.config_path)

    def store(self) -> Store:
        return open_store(self.cfg().store.url)

    def add_seed(self) -> Path:
        dest = self.posts / SEED_NAME
        shutil.copy(SEED, dest)
        return dest

    def post(
        self,
        name: str,
        *,
        title: str = "测试标题",
        date: str | None = "2022-02-11 09:00:00 +0800",
        categories: str | None = "caijing",
        tags: str | None = None,
        body: str = "<p>第一段内容。第二句话。</p>",
        extra: str = "",
        folder: Path | None = None,
    ) -> Path:
        lines = ["---", f'title: "{title}"']
        if date is not None:
            lines.append(f"date: {date}")
        if categories is not None:
            lines.append(f"categories: {categories}")
        if tags is not None:
            lines.append(f"tags: {tags}")
        if extra:
            lines.append(extra.strip("\n"))
        lines.append("---")
        path = (folder or self.posts) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n" + body + "\n", encoding="utf-8")
        return path


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


# -- which store the tests run against ----------------------------------------

STORE_ENV = StoreConfig().url_env  # SYNDICATE_STORE_URL: replaces store.url when set
STORE_KIND = os.environ.get("SYNDICATE_TEST_STORE", "sqlite").strip().lower() or "sqlite"
if STORE_KIND not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"SYNDICATE_TEST_STORE={STORE_KIND!r}: give sqlite or postgresql")
ON_POSTGRES = STORE_KIND == "postgresql"
# a URL left in the developer's shell must not send `make test` to their real store
os.environ.pop(STORE_ENV, None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only(reason): needs SQLite itself; skipped under make test-pg"
    )
    config.addinivalue_line(
        "markers",
        "pg_only: needs a PostgreSQL server: runs on one under make test too (skipped if none)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"store: {STORE_KIND} (SYNDICATE_TEST_STORE)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not ON_POSTGRES:
        return
    for item in items:  # a skip mark: reported at the test's own line, no fixture set up
        mark = item.get_closest_marker("sqlite_only")
        if mark is not None:
            reason = mark.args[0] if mark.args else mark.kwargs.get("reason", "")
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


def _on_postgres(request: pytest.FixtureRequest) -> bool:
    return ON_POSTGRES or request.node.get_closest_marker("pg_only") is not None


class PgStores:
    """The session's server and the template every test's database is copied from."""

    TEMPLATE = "syndicate_head"

    def __init__(self, server: PgServer) -> None:
        self.server = server
        server.create_database(self.TEMPLATE)
        store = Store(server.url(self.TEMPLATE))
        try:
            store.upgrade()  # the revisions themselves, run on PostgreSQL
        finally:
            store.close()  # no connection may stay: CREATE DATABASE … TEMPLATE needs none

        self._doomed: queue.Queue[str | None] = queue.Queue()
        self._dropper = threading.Thread(target=self._drop_all, name="drop-databases")
        self._dropper.start()

    def fresh(self, prefix: str = "test") -> str:
        """A new database at the head; its URL."""
        return self.server.url(self.server.new_database(prefix, template=self.TEMPLATE))

    def empty(self) -> str:
        """A new database without any table; its URL."""
        return self.server.url(self.server.new_database("empty"))

    def discard(self, url: str) -> None:
        """Drop the database of ``url`` soon (in a thread: the next test need not wait)."""
        self._doomed.put(url.rsplit("/", 1)[1])

    def _drop_all(self) -> None:
        conn = None  # its own: creating the next test's database need not wait for it
        while (name := self._doomed.get()) is not None:
            try:
                conn = conn if conn is not None and not conn.closed else self.server.connect()
                self.server.drop_database(name, conn)
            except Exception as exc:  # say so, and go on with the next one
                print(f"tests/conftest.py: could not drop database {name}: {exc}")
                conn = None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        self._doomed.put(None)
        self._dropper.join(60)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server (``tests/pg_server.py``); skips the test if none.

    (pytest keeps a session fixture's skip: the server is tried once.)
    """
    with started_server() as server:
        yield server


@pytest.fixture(scope="session")
def pg_stores(pg_server: PgServer) -> Iterator[PgStores]:
    stores = PgStores(pg_server)
    try:
        yield stores
    finally:
        stores.close()


@pytest.fixture(autouse=True)
def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """This test's store: its own PostgreSQL database, or the site's SQLite file.

    On PostgreSQL the database is named in ``SYNDICATE_STORE_URL`` for the
    test (configs loaded and processes started inherit it) and dropped after.
    """
    if not _on_postgres(request):
        yield f"sqlite:///{tmp_path / 'var' / 'test.db'}"  # what the site's config resolves to
        return
    stores: PgStores = request.getfixturevalue("pg_stores")
    url = stores.fresh()
    monkeypatch.setenv(STORE_ENV, url)
    try:
        yield url
    finally:
        stores.discard(url)


@pytest.fixture
def empty_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store with no table yet (not ``store_url``'s), e.g. to run every revision on."""
    if not _on_postgres(request):
        (tmp_path / "empty").mkdir()  # the file is made by the first connection
        yield f"sqlite:///{tmp_path / 'empty' / 'store.db'}"
        return
    stores: PgStores = request.getfixturevalue("pg_stores")
    url = stores.empty()
    try:
        yield url
    finally:
        stores.discard(url)


@pytest.fixture
def bump_mtime() -> Callable[[Path], None]:
    def bump(path: Path) -> None:
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))

    return bump


class Stores:
    """Brand-new stores at the head, for a test (or a module's fixture) that needs more.

    ``fresh()`` gives the URL of one for the ``with`` block, of the session's
    kind: a SQLite file of its own, or a PostgreSQL database copied from the
    template (dropped after). Point a config at it with ``STORE_ENV``.
    """

    def __init__(self, pg: PgStores | None, folder: Path) -> None:
        self.pg = pg
        self.folder = folder
        self._n = itertools.count(1)

    @contextlib.contextmanager
    def fresh(self) -> Iterator[str]:
        if self.pg is None:
            folder = self.folder / f"store-{next(self._n)}"
            try:
                yield f"sqlite:///{folder / 'test.db'}"  # made by the first open_store
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            return
        url = self.pg.fresh("extra")
        try:
            yield url
        finally:
            self.pg.discard(url)


@pytest.fixture(scope="session")
def stores(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Stores:
    pg = request.getfixturevalue("pg_stores") if ON_POSTGRES else None
    return Stores(pg, tmp_path_factory.mktemp("stores"))


@pytest.fixture
def unopenable_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, list[str]]:
    """A store URL no command can open, and what its one-line error must say.

    SQLite: a file under a regular file. PostgreSQL: a database the server
    does not have. Set it as ``STORE_ENV`` (which outranks the config file).
    """
    if not _on_postgres(request):
        blocker = tmp_path / "file.txt"
        blocker.write_text("not a folder")
        return f"sqlite:///{blocker}/db.sqlite", [f"{blocker}/db.sqlite", "not a directory"]
    server: PgServer = request.getfixturevalue("pg_server")
    missing = "no_such_store"
    return server.url(missing), [f"/{missing}", f'database "{missing}" does not exist']
