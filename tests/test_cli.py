from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from syndicate import __version__
from syndicate.cli import main


def run(site, *args: str):
    return CliRunner().invoke(main, ["--config", str(site.config_path), *args])


def test_version_from_a_real_process():
    out = subprocess.run(
        [sys.executable, "-m", "syndicate", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"syndicate, version {__version__}"


@pytest.mark.parametrize("command", [[], ["collect"], ["status"]])
def test_help_everywhere(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_collect_summary_and_exit_codes(site):
    site.add_seed()
    result = run(site, "collect")
    assert result.exit_code == 0, result.output
    assert "collected 1 files: 1 new, 0 updated, 0 rejected" in result.output
    (site.posts / "2022-01-01-bad.md").write_text("no front matter")
    result = run(site, "collect")
    assert result.exit_code == 2
    assert "rejected: _posts/2022-01-01-bad.md: no front matter" in result.output
    assert "collected 2 files: 0 new, 0 updated, 1 unchanged, 1 rejected" in result.output


def test_status_shows_categories_and_last_run(site):
    site.add_seed()
    run(site, "collect")
    result = run(site, "status")
    assert result.exit_code == 0
    assert "wangxinzhongguo" in result.output
    assert "网信中国" in result.output
    assert "2022-02-10 11:48" in result.output
    assert "collect" in result.output and "new 1" in result.output


def test_bad_config_is_fatal_with_location(site):
    site.write_config("site:\n  title: x\n  url: https://e.org\n  typo: 1\n")
    result = run(site, "collect")
    assert result.exit_code == 1
    assert "schedule.yaml:4: site.typo: unknown key" in result.output


def test_jobs_show_the_edition_each_digest_job_sends(site, monkeypatch):
    """offer_weekly: two jobs send the same digest; `syndicate jobs` tells them apart."""
    from .digest_support import configure

    monkeypatch.setenv("COLUMNS", "200")  # one table row per job, unwrapped
    configure(
        site,
        digest_extra="offer_weekly: true\n",
        extra="jobs:\n"
        "  daily: {digest: daily, cron: '0 8 * * *'}\n"
        "  daily-weekly: {digest: daily, edition: week, cron: '0 8 * * 1'}\n"
        "  collect: {every: 10m}\n",
    )
    result = run(site, "jobs")
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert "digest daily, daily edition" in rows["daily"]
    assert "digest daily, weekly edition" in rows["daily-weekly"]
    assert "edition" not in rows["collect"]
