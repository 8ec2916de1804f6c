"""`digest retry` sends an edition again only where it did not arrive; `status --failed` says why.

A real SMTP server (aiosmtpd on 127.0.0.1) greylists one address and
refuses another for good.
"""

from __future__ import annotations

from click.testing import CliRunner

from syndicate.cli import main
from syndicate.digest.subscribers import Entry

from .conftest import NOW
from .digest_support import SECRET, collect_at, configure, subscribe, write_posts
from .smtp_server import Recorder, smtp_server

PEOPLE = ["a@example.org", "b@example.org", "grey@example.org", "dead@example.org"]


def cli(site, *args: str):
    return CliRunner().invoke(main, ["--config", str(site.config_path), *args])


def test_retry_sends_only_what_did_not_arrive(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    rec = Recorder(refuse={"dead@example.org"}, greylist={"grey@example.org"})
    with smtp_server(rec) as (_, port):
        configure(site, smtp_port=port)
        store = site.store()
        write_posts(site, {"caijing": 2})
        collect_at(site, store)
        subscribe(store, [Entry(a) for a in PEOPLE])
        first = cli(site, "digest", "send", "daily", "--now", NOW.isoformat())
        assert "2 sent, 1 failed, 1 pending" in first.output, first.output

        failed = cli(site, "digest", "status", "daily", "--failed")
        assert failed.exit_code == 0, failed.output
        lines = {ln.split("│")[1].strip(): ln for ln in failed.output.splitlines() if "@" in ln}
        assert set(lines) == {"grey@example.org", "dead@example.org"}
        assert "failed" in lines["dead@example.org"] and "550" in lines["dead@example.org"]
        assert "pending (temporary)" in lines["grey@example.org"]
        assert "451" in lines["grey@example.org"]

        rec.greylist.clear()  # the greylisting server lets it through now
        again = cli(site, "digest", "retry", "daily")
        assert again.exit_code == 0, again.output
        assert "3 sent, 1 failed, 0 pending" in again.output
        counts = rec.per_recipient()
        assert counts == {"a@example.org": 1, "b@example.org": 1, "grey@example.org": 1}
        nothing = cli(
            site, "digest", "retry", "daily", "--date", NOW.astimezone().strftime("%Y-%m-%d")
        )
        assert rec.per_recipient() == counts  # sent rows are never sent again
        assert nothing.exit_code in (0, 1)
        after = cli(site, "digest", "status", "daily", "--failed")
        assert "grey@example.org" not in after.output and "dead@example.org" in after.output

    assert (
        "no edition on 2020-01-01"
        in cli(site, "digest", "retry", "daily", "--date", "2020-01-01").output
    )
    assert cli(site, "digest", "status", "--failed").exit_code == 2  # needs NAME
