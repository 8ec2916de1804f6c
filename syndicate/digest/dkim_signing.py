"""DKIM signatures (dkimpy) on the final bytes of every digest and confirmation mail.

Signed last, after every header is in place, so nothing changes the signed
bytes afterwards; relaxed/relaxed canonicalization, so a relay that rewraps
headers does not break it. The key was read and parsed when the config was
loaded (``DkimConfig``), so a bad key stops the start, not the first send.
"""

from __future__ import annotations

import dkim

from ..config import DkimConfig
from . import wire

# what a receiver needs intact to trust the message and its unsubscribe headers
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
)


class Signer:
    def __init__(self, cfg: DkimConfig) -> None:
        self.domain = cfg.domain.encode("ascii")
        self.selector = cfg.selector.encode("ascii")
        self.key = cfg.key_file.read_bytes()

    def sign(self, data: bytes) -> bytes:
        """``data`` with its DKIM-Signature header in front."""
        present = {
            line.split(b":", 1)[0].strip().lower()
            for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
            if b":" in line and not line[:1].isspace()
        }
        header = dkim.sign(
            data,
            self.selector,
            self.domain,
            self.key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=[h for h in SIGNED_HEADERS if h in present],
        )
        signed = bytes(header) + data
        if wire.is_wire(data) and wire.safe_lines(bytes(header), wire.CRLF):
            # still in final form: the signature's folded lines start with a space
            return wire.mark(signed, linesep=wire.CRLF, message_id=data.message_id)
        return signed


def signer_for(cfg: DkimConfig | None) -> Signer | None:
    return Signer(cfg) if cfg is not None else None
