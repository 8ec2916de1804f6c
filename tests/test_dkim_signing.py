"""DKIM: every digest and confirmation mail signed, verified by dkimpy against the public key.

The key pair is made by openssl (as dkimpy's own ``dknewkey`` does); the DNS
lookup is replaced by a function that answers the selector's TXT record.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import dkim
import pytest
from click.testing import CliRunner

from syndicate.cli import main
from syndicate.config import load
from syndicate.digest import editions, signups
from syndicate.digest.signups import SignupRequest
from syndicate.digest.subscribers import Entry
from syndicate.errors import ConfigError
from syndicate.timeutil import now_utc

from .conftest import NOW
from .digest_support import SECRET, collect_at, configure, subscribe, write_posts
from .smtp_server import smtp_server

DOMAIN, SELECTOR = "finews.withounder.com", "s2026"


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, bytes]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test key")
    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    der = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)
    return key, record


def dns_for(record: bytes):
    def lookup(name: bytes, timeout: int = 5) -> bytes:
        assert name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode()
        return record

    return lookup


def test_digests_and_confirmations_are_signed(site, keys, monkeypatch):
    key, record = keys
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    with smtp_server() as (rec, port):
        configure(site, smtp_port=port)
        with site.config_path.open("a", encoding="utf-8") as fh:  # under delivery:
            fh.write(f"  dkim: {{domain: {DOMAIN}, selector: {SELECTOR}, key_file: {key}}}\n")
        store = site.store()
        write_posts(site, {"caijing": 2})
        collect_at(site, store)
        subscribe(store, [Entry("a@example.org", "读者")])
        (result,) = editions.send_due(site.cfg(), store, now=NOW)
        assert result.sent == 1
        signups.request(
            site.cfg(), store, SignupRequest("new@example.org"), key=SECRET.encode(), now=now_utc()
        )
        assert len(rec.received) == 2
        for got in rec.received:
            data = got.data
            assert data.startswith(b"DKIM-Signature:")
            assert dkim.verify(data, dnsfunc=dns_for(record))
            signed = dkim.DKIM(data)
            header = data.split(b"\r\n\r\n", 1)[0]
            assert b"h=" in header and b"from" in header.lower()
            # any change to what was signed breaks it
            tampered = data.replace(b"Subject:", b"Subject: RE:", 1)
            assert not dkim.verify(tampered, dnsfunc=dns_for(record))
            assert signed is not None
        digest = next(g for g in rec.received if b"List-Unsubscribe" in g.data)
        h = digest.data.split(b"\r\n\r\n", 1)[0].lower()
        assert b"list-unsubscribe" in h.split(b"h=", 1)[1][:400]


def test_a_bad_key_stops_the_start(site, tmp_path):
    configure(
        site,
        extra=f"delivery:\n  dkim: {{domain: {DOMAIN}, selector: {SELECTOR}, "
        f"key_file: {tmp_path / 'missing.pem'}}}\n",
    )
    with pytest.raises(ConfigError, match=r"delivery\.dkim\.key_file: .*cannot read"):
        load(site.config_path)
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    configure(
        site,
        extra=f"delivery:\n  dkim: {{domain: {DOMAIN}, selector: {SELECTOR}, "
        f"key_file: {broken}}}\n",
    )
    r = CliRunner().invoke(main, ["--config", str(site.config_path), "status"])
    assert r.exit_code == 1 and "delivery.dkim.key_file" in r.output
    assert "is not a PEM RSA private key" in r.output
