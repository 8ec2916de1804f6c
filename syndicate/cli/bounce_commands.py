"""``syndicate bounces …``: read the bounce mailbox and apply what it says.

Imported only when the group is used (``cli/__init__.py``'s LazyGroup).
"""

from __future__ import annotations

from typing import Any

import click

from ..digest import feedback, tokens
from ..digest.bounce_imap import ImapError
from ..timeutil import now_utc
from .context import fail, handled


@click.group()
def bounces() -> None:
    """Bounces, complaints and unsubscribe replies (`bounces:` in schedule.yaml).

    Point the MTA (or the relay's forwarding) for the digests' return path,
    `bounces+TOKEN@SITE-HOST` by default, and for the unsubscribe address at
    the Maildir in `bounces.maildir`, or have them read from an IMAP mailbox
    (`bounces.imap`); the daemon can run `process` as a job
    (`jobs: {bounces: {run: bounces, every: 10m}}`).
    """


@bounces.command()
@click.pass_obj
def process(obj: Any) -> None:
    """Read each new message once: bounced and complaining subscribers stop getting digests.

    Messages move from new/ to cur/ once what they say is in the store, so a
    second run never counts one again, and a crash loses nothing.
    """
    cfg = obj.cfg
    if cfg.bounces.maildir is None and cfg.bounces.imap is None:
        fail("no bounce mailbox: set bounces.maildir or bounces.imap in schedule.yaml")
    with handled():
        key = tokens.secret()
        try:
            counts = feedback.process(cfg, obj.store, key=key, now=now_utc())
        except FileNotFoundError as exc:
            fail(f"bounces.maildir: {exc}")
        except ImapError as exc:
            fail(f"bounces.imap: {exc}")
    where = " and ".join(
        str(w) for w in (cfg.bounces.maildir, cfg.bounces.imap and cfg.bounces.imap.host) if w
    )
    print(f"{where}: {counts.describe()}")
    if counts.unknown:
        print(f"{counts.unknown} named nobody subscribed (kept in the store, nothing changed)")
