"""The bounce mailbox over IMAP: each new message read once, then flagged.

A message is fetched with ``BODY.PEEK[]`` (which leaves it unread for a
person), applied in one transaction with its ``feedback`` row
(``feedback.apply``), and only then flagged ``$SyndicateRead`` and ``\\Seen``.
A run searches for messages without that keyword, so a second run never
counts one again; a crash after the commit and before the flag makes the
next run read it again, find its key and only flag it. The standard
library's ``imaplib`` speaks the protocol; UIDs, not sequence numbers, name
the messages (they do not shift when others are expunged).
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import os
import re
import ssl
from datetime import datetime
from typing import Any

from ..config import Config, ImapConfig
from ..store import Store
from .feedback import FeedbackCounts, process_bytes

log = logging.getLogger(__name__)

KEYWORD = "$SyndicateRead"


class ImapError(OSError):
    """The IMAP mailbox cannot be used; ``str()`` names it and why."""


def _label(cfg: ImapConfig) -> str:
    return f"imap://{cfg.username}@{cfg.host}:{cfg.port}/{cfg.folder}"


def _connect(cfg: ImapConfig) -> imaplib.IMAP4:
    password = os.environ.get(cfg.password_env, "")
    if not password:
        raise ImapError(f"{_label(cfg)}: the password is not set (${cfg.password_env})")
    try:
        conn: imaplib.IMAP4
        if cfg.tls:
            conn = imaplib.IMAP4_SSL(
                cfg.host, cfg.port, ssl_context=ssl.create_default_context(), timeout=cfg.timeout
            )
        else:
            conn = imaplib.IMAP4(cfg.host, cfg.port, timeout=cfg.timeout)
            if cfg.starttls:
                conn.starttls(ssl.create_default_context())
        conn.login(cfg.username, password)
    except (imaplib.IMAP4.error, OSError) as exc:
        raise ImapError(f"{_label(cfg)}: {exc}") from None
    return conn


def _ok(result: tuple[str, list[Any]], what: str, cfg: ImapConfig) -> list[Any]:
    status, data = result
    if status != "OK":
        raise ImapError(f"{_label(cfg)}: {what} refused: {data!r}")
    return data


def process_imap(
    cfg: Config, store: Store, imap: ImapConfig, *, key: bytes, now: datetime
) -> FeedbackCounts:
    counts = FeedbackCounts()
    conn = _connect(imap)
    try:
        _ok(conn.select(_quote(imap.folder)), "SELECT", imap)
        # a server that takes no keywords of ours (PERMANENTFLAGS without \*): \Seen
        # alone marks what was read, so a person must not mark bounces read by hand
        _, permanent = conn.response("PERMANENTFLAGS")
        keywords = any(b"\\*" in p for p in permanent if isinstance(p, bytes))
        search = ("UNKEYWORD", KEYWORD) if keywords else ("UNSEEN",)
        mark = f"({KEYWORD} \\Seen)" if keywords else "(\\Seen)"
        data = _ok(conn.uid("SEARCH", *search), "SEARCH", imap)
        raw = data[0] if data and isinstance(data[0], bytes) else b""
        uids = [u.decode("ascii") for u in raw.split()]
        for uid in uids:
            fetched = _ok(conn.uid("FETCH", uid, "(BODY.PEEK[])"), "FETCH", imap)
            body = next(
                (part[1] for part in fetched if isinstance(part, tuple) and len(part) == 2),
                None,
            )
            if not isinstance(body, bytes):
                continue  # expunged by somebody else meanwhile
            process_bytes(cfg, store, body, key=key, now=now, counts=counts)
            _ok(conn.uid("STORE", uid, "+FLAGS", mark), "STORE", imap)
    except imaplib.IMAP4.error as exc:
        raise ImapError(f"{_label(imap)}: {exc}") from None
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            conn.logout()
    return counts


def _quote(folder: str) -> str:
    return (
        folder
        if re.fullmatch(r"[A-Za-z0-9._/-]+", folder)
        else '"' + folder.replace('"', '\\"') + '"'
    )
