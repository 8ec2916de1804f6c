"""Fatal errors are one line naming the file, path or key; the traceback only with debug.

Real ``syndicate`` processes on real files: a store that cannot be opened
(under a regular file or a database the server lacks, in /proc, in a
read-only folder, not a database), an output folder that cannot be created,
and a store row that no longer parses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from syndicate.store import Store

from .conftest import ROOT, STORE_ENV, config_text


def syndicate(site, *args: str, debug: bool = False) -> subprocess.CompletedProcess[str]:
    level = ["--log-level", "debug"] if debug else []
    return subprocess.run(
        [sys.executable, "-m", "syndicate", "--config", str(site.config_path), *level, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def with_store(site, url: str) -> None:
    site.write_config(config_text({"caijing": "财经"}).replace("sqlite:///var/test.db", url))


@pytest.fixture
def unopenable(site, monkeypatch, unopenable_store) -> list[str]:
    """The site's store cannot be opened; what the error line must name."""
    url, says = unopenable_store
    with_store(site, url)
    monkeypatch.setenv(STORE_ENV, url)  # which outranks the file
    return says


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The whole of stderr, asserted to be a single ``syndicate: error:`` line."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("syndicate: error: "), lines[0]
    assert result.returncode == 1, (result.returncode, result.stderr)
    return lines[0]


@pytest.mark.parametrize(
    "command", [["status"], ["collect"], ["build"], ["jobs"], ["run", "--once"], ["health"]]
)
def test_unopenable_store_is_one_line_naming_it(site, unopenable, command):
    line = one_line(syndicate(site, *command))
    assert all(part in line for part in unopenable), line


def test_debug_adds_the_traceback(site, unopenable):
    result = syndicate(site, "status", debug=True)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("syndicate: error: store: ")


@pytest.mark.sqlite_only("a store file in a folder nobody may write")
@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_store_in_a_folder_no_one_can_write_is_one_line(site):
    # /proc refuses new files even to root
    with_store(site, "sqlite:////proc/syndicate-test.db")
    line = one_line(syndicate(site, "status"))
    assert "/proc/syndicate-test.db" in line, line


@pytest.mark.sqlite_only("a store file in a read-only folder")
@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permission bits")
def test_store_in_a_read_only_folder_is_one_line(site):
    folder = site.root / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with_store(site, f"sqlite:///{folder}/db.sqlite")
        line = one_line(syndicate(site, "status"))
    finally:
        folder.chmod(0o755)
    assert f"{folder}/db.sqlite" in line and "ermission denied" in line, line


@pytest.mark.sqlite_only("a file that is not a SQLite database")
def test_store_that_is_not_a_database_is_one_line(site):
    db = site.root / "var" / "test.db"
    db.parent.mkdir()
    db.write_bytes(b"this is not a database\n" * 200)
    line = one_line(syndicate(site, "status"))
    assert str(db) in line and "not a database" in line, line


def test_unwritable_output_folder_is_one_line_naming_it(site):
    site.add_seed()
    blocker = site.root / "out.txt"
    blocker.write_text("not a folder")
    site.extend_config(f"feeds:\n  dir: {blocker}/feeds\n")
    assert syndicate(site, "collect").returncode == 0
    line = one_line(syndicate(site, "build"))
    assert str(blocker) in line, line
    result = syndicate(site, "build", debug=True)
    assert result.returncode == 1 and "Traceback (most recent call last)" in result.stderr


def test_failed_pipeline_step_is_one_line_and_recorded_with_its_summary(site):
    site.add_seed()
    blocker = site.root / "out.txt"
    blocker.write_text("not a folder")
    site.extend_config(f"feeds:\n  dir: {blocker}/feeds\n")
    line = one_line(syndicate(site, "run", "--once"))
    assert line.startswith("syndicate: error: once: ") and str(blocker) in line, line
    status = syndicate(site, "status")
    assert "error" in status.stdout and "Traceback" not in status.stdout
    result = syndicate(site, "run", "--once", debug=True)
    assert result.returncode == 1 and "Traceback (most recent call last)" in result.stderr


def test_unexpected_exception_is_one_line_naming_where(site):
    site.add_seed()
    assert syndicate(site, "collect").returncode == 0
    # a run row whose counts no longer parse: nothing the code expects to handle
    with Store(site.cfg().store.url).begin() as conn:
        conn.execute(text("UPDATE runs SET counts = '{not json'"))
    line = one_line(syndicate(site, "status"))
    assert "JSONDecodeError" in line and "syndicate/store/" in line, line
    result = syndicate(site, "status", debug=True)
    assert result.returncode == 1 and "Traceback (most recent call last)" in result.stderr


def test_rejected_inputs_still_exit_2(site):
    (site.posts / "2022-01-01-bad.md").write_text("no front matter")
    result = syndicate(site, "collect")
    assert result.returncode == 2
    assert "syndicate: error" not in result.stderr
