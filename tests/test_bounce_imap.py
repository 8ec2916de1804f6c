"""The bounce mailbox over IMAP: a real Dovecot on 127.0.0.1, messages appended as an MTA would.

Read once, flagged ``$SyndicateRead``; a second run counts nothing again; a
message flagged by nobody (a crash after the commit) is found by its key.
"""

from __future__ import annotations

import imaplib

from click.testing import CliRunner

from syndicate.cli import main
from syndicate.digest.subscribers import ACTIVE, BOUNCED, UNSUBSCRIBED, get

from .imap_server import PASSWORD, append, dovecot, flags
from .test_feedback import arf, dsn, sent  # noqa: F401 - the fixture

USER = "bounces"


def imap_config(site, port: int) -> None:
    text = site.config_path.read_text(encoding="utf-8").replace(
        "bounces:\n  maildir: bounces\n",
        f"bounces:\n  imap: {{host: 127.0.0.1, port: {port}, tls: false, username: {USER}}}\n",
    )
    site.config_path.write_text(text, encoding="utf-8")


def process(site):
    return CliRunner().invoke(main, ["--config", str(site.config_path), "bounces", "process"])


def test_imap_mailbox_read_once(sent, monkeypatch):  # noqa: F811
    site, store, envelopes, ids = sent
    monkeypatch.setenv("SYNDICATE_IMAP_PASSWORD", PASSWORD)
    with dovecot() as port:
        imap_config(site, port)
        append(port, USER, dsn(envelopes["a@example.org"], "a@example.org"))
        append(port, USER, arf(envelopes["b@example.org"], "b@example.org", ids["b@example.org"]))
        r = process(site)
        assert r.exit_code == 0, r.output
        assert "1 permanent" in r.output and "1 complaints" in r.output
        assert get(store, "a@example.org").status == BOUNCED
        assert get(store, "b@example.org").status == UNSUBSCRIBED
        assert get(store, "c@example.org").status == ACTIVE
        marked = flags(port, USER)
        assert len(marked) == 2 and all(b"$SyndicateRead" in m for m in marked)
        again = process(site)
        assert "read 0 messages" in again.output  # flagged: not even fetched

        # a crash after the commit, before the flag: read again, counted once
        c = imaplib.IMAP4("127.0.0.1", port)
        c.login(USER, PASSWORD)
        c.select("INBOX")
        c.uid("STORE", "1:*", "-FLAGS", "($SyndicateRead)")
        c.logout()
        third = process(site)
        assert "2 read before" in third.output and "0 permanent" in third.output
        assert store.feedback_counts() == {"bounce": 1, "complaint": 1}


def test_imap_errors_are_one_line(sent, monkeypatch):  # noqa: F811
    site, _, _, _ = sent
    with dovecot() as port:
        imap_config(site, port)
        monkeypatch.delenv("SYNDICATE_IMAP_PASSWORD", raising=False)
        r = process(site)
        assert r.exit_code == 1 and "$SYNDICATE_IMAP_PASSWORD" in r.output
        monkeypatch.setenv("SYNDICATE_IMAP_PASSWORD", "wrong")
        r = process(site)
        assert r.exit_code == 1 and "bounces.imap: imap://bounces@127.0.0.1" in r.output
