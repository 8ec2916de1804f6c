"""A store written by the last release before Alembic is upgraded in place, every row kept.

``tests/data/store-v2/store-v2.sql`` is a dump of a schema-version-2 store
made by that release's own code (commit 87a85d2, by ``make.sh`` beside it):
a collect from post files and from upstream RSS and Atom feeds (one failing),
subscribers added and removed, two digests sent. Here it is loaded into a
real SQLite file, upgraded by today's code and compared row for row.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner

from syndicate.cli import main
from syndicate.store import HEAD, SCHEMA_VERSION, Store, metadata, open_store

from .conftest import DATA

pytestmark = pytest.mark.sqlite_only(
    "the schema-version-2 fixture is a SQLite file of that release"
)

DUMP = DATA / "store-v2" / "store-v2.sql"
# what the revisions after 0002 add: columns (NULL in old rows unless listed
# in FILLED) and tables (empty after the upgrade)
NEW_COLUMNS = {
    "runs": ["pid", "host", "pid_started"],
    "subscribers": [
        "consent_method",
        "consent_page",
        "consent_ip",
        "consent_at",
        "confirmed_at",
        "weekly",
    ],
    "editions": ["period"],
}
# what 0007 fills in old rows: every edition was a daily one, nobody chose a weekly one
FILLED = {"editions": ("day",)}
NEW_TABLES = {
    "alembic_version",
    "signups",
    "subscriber_events",
    "forgotten",
    "feedback",
    "send_pace",
    "nodes",
}


def _load(db: Path) -> None:
    con = sqlite3.connect(db)
    con.executescript(DUMP.read_text(encoding="utf-8"))
    con.close()


def _snapshot(db: Path) -> dict[str, tuple[list[str], list[tuple[object, ...]]]]:
    """Every table's column names and rows, in primary-key order."""
    con = sqlite3.connect(db)
    try:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        snap = {}
        for table in tables:
            cur = con.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
            snap[table] = ([d[0] for d in cur.description], cur.fetchall())
        return snap
    finally:
        con.close()


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def v2_store(tmp_path: Path) -> Path:
    db = tmp_path / "var" / "syndicate.db"
    db.parent.mkdir()
    _load(db)
    return db


def _config(tmp_path: Path, db: Path) -> Path:
    path = tmp_path / "schedule.yaml"
    path.write_text(
        "site: {title: 金融资讯网, url: https://finews.withounder.com, language: zh-CN,"
        " timezone: Asia/Shanghai}\n"
        "sources:\n  - {name: posts, posts: site/_posts}\n"
        "categories: {caijing: 财经, keji: 科技, guoji: 国际}\n"
        f'store: {{url: "sqlite:///{db}"}}\n'
        "digests:\n"
        "  - {name: daily, categories: all, window: since-last,"
        ' from: "金融资讯网 <digest@finews.withounder.com>"}\n'
        "  - {name: caijing, categories: [caijing], window: 7d,"
        ' from: "金融资讯网 <digest@finews.withounder.com>"}\n',
        encoding="utf-8",
    )
    (tmp_path / "site" / "_posts").mkdir(parents=True, exist_ok=True)
    return path


def test_the_fixture_is_a_full_version_2_store(v2_store):
    snap = _snapshot(v2_store)
    assert "alembic_version" not in snap
    meta = dict(snap["meta"][1])
    assert meta["schema_version"] == "2"
    for table in set(metadata.tables) - NEW_TABLES:  # rows in every table it had
        assert snap[table][1], f"{table} is empty in the fixture"
    for table, columns in NEW_COLUMNS.items():
        assert not set(columns) & set(snap[table][0]), table
    assert not NEW_TABLES & set(snap)
    rev = Store(f"sqlite:///{v2_store}").revision()
    assert (rev.current, rev.legacy, rev.due, rev.newer) == ("0002", True, True, False)


def test_upgrade_keeps_every_row(v2_store):
    before = _snapshot(v2_store)
    store = open_store(f"sqlite:///{v2_store}")
    store.close()
    after = _snapshot(v2_store)

    assert set(after) == set(before) | NEW_TABLES
    assert after["alembic_version"][1] == [(HEAD,)]
    assert all(not after[t][1] for t in NEW_TABLES - {"alembic_version"})
    for table, (columns, rows) in before.items():
        new_columns, new_rows = after[table]
        assert new_columns[: len(columns)] == columns, table
        added = new_columns[len(columns) :]
        assert added == NEW_COLUMNS.get(table, []), table
        if table == "meta":  # the one value an upgrade rewrites
            old = dict(rows)
            old["schema_version"] = str(SCHEMA_VERSION)
            old["signups-lock"] = ""  # made by 0005
            assert dict(new_rows) == old
            continue
        assert [r[: len(columns)] for r in new_rows] == rows, table
        if table == "subscribers":  # consent as far as it is known: method and time
            for new_row in new_rows:
                record = dict(zip(new_columns, new_row, strict=True))
                source = record["source"]
                method = "file" if source.startswith("file:") else "cli"
                assert (record["consent_method"], record["consent_at"]) == (
                    method,
                    record["created_at"],
                )
                assert record["consent_page"] is record["consent_ip"] is None
                assert record["confirmed_at"] is None
                assert record["weekly"] == ""
            continue
        filled = FILLED.get(table, (None,) * len(added))
        assert all(r[len(columns) :] == filled for r in new_rows), table

    con = sqlite3.connect(v2_store)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        indexes = {n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert "ix_runs_outcome" in indexes
    finally:
        con.close()

    # the upgraded schema is exactly the model's, as a new store's is
    store = Store(f"sqlite:///{v2_store}")
    try:
        with store.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
        assert not store.revision().due
    finally:
        store.close()


def test_upgrade_through_the_cli(tmp_path, v2_store):
    config = _config(tmp_path, v2_store)

    def run(*args: str):
        return CliRunner().invoke(main, ["--config", str(config), *args])

    status = run("store", "status")
    assert status.exit_code == 0, status.output
    assert "revision: 0002 (schema_version 2, before Alembic)" in status.output
    assert f"head: {HEAD}" in status.output
    assert "upgrade due: yes" in status.output
    assert "alembic_version" not in _snapshot(v2_store)  # status changed nothing

    upgraded = run("store", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert f": 0002 (schema_version 2, before Alembic) → {HEAD}" in upgraded.output
    methods = {r[0] for r in _rows(v2_store, "SELECT DISTINCT consent_method FROM subscribers")}
    assert methods == {"file", "cli"}
    again = run("store", "upgrade")
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert "upgrade due: no" in run("store", "status").output

    # today's commands read what the old release wrote
    subs = run("subscribers", "list")
    assert subs.exit_code == 0, subs.output
    rows = {
        cells[0]: cells
        for line in subs.output.splitlines()
        if "@" in line and (cells := [c.strip() for c in line.strip("│ ").split("│")])
    }
    assert rows["li.lei@example.org"][-1] == "unsubscribed"
    assert rows["new.reader@example.net"][1:] == [
        "新读者",
        "caijing",
        "all",
        "-",
        "active",
    ]  # "-": no weekly choice
    assert len(rows) == 6
    editions = run("digest", "status")
    assert editions.exit_code == 0, editions.output
    table = [line for line in editions.output.splitlines() if "2026-12-03" in line]
    assert len(table) == 2 and all(line.rstrip(" │").endswith("done") for line in table)
    cats = run("status")
    assert cats.exit_code == 0, cats.output
    assert "caijing" in cats.output and "财经" in cats.output


def test_a_store_newer_than_the_code_is_refused_by_the_cli(tmp_path, v2_store):
    open_store(f"sqlite:///{v2_store}").close()
    con = sqlite3.connect(v2_store)
    con.execute("UPDATE alembic_version SET version_num = '0099'")
    con.commit()
    con.close()
    before = _snapshot(v2_store)
    config = _config(tmp_path, v2_store)
    for args in (("store", "status"), ("store", "upgrade"), ("status",)):
        result = CliRunner().invoke(main, ["--config", str(config), *args])
        assert result.exit_code == 1, (args, result.output)
        assert "store revision 0099 is newer than this syndicate; upgrade syndicate" in (
            result.output
        ), args
    assert _snapshot(v2_store) == before
