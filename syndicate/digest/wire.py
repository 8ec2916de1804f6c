"""Message bytes in their final form, so that no transport has to scan a whole message again.

A ``WireMessage`` is bytes whose every line ends in ``linesep`` and in which
no line starts with ``.``: over SMTP (CRLF) it is already dot-stuffed, in a
Maildir (LF) it is the file as written. The digest builder produces such
bytes by construction (headers, MIME boundaries and base64 lines never start
with a dot) and marks them; a transport sends a marked message as it is and
puts anything else through ``to_smtp`` (the same work as smtplib's
``sendmail``: line ends, then dot-stuffing).
"""

from __future__ import annotations

import re
from typing import TypeGuard

CRLF = b"\r\n"
_EOL = re.compile(rb"\r\n|\n|\r")
_DOT = re.compile(rb"(?m)^\.")


class WireMessage(bytes):
    """Bytes in final form (see the module docstring), with the Message-ID they carry."""

    linesep: bytes
    message_id: str


def mark(data: bytes, *, linesep: bytes, message_id: str) -> WireMessage:
    out = WireMessage(data)
    out.linesep = linesep
    out.message_id = message_id
    return out


def is_wire(data: bytes, linesep: bytes = CRLF) -> TypeGuard[WireMessage]:
    return isinstance(data, WireMessage) and data.linesep == linesep


def safe_lines(data: bytes, linesep: bytes) -> bool:
    """For small pieces (a header, a signature): lines end in ``linesep``, none starts with "."."""
    if not data.endswith(linesep) or data.startswith(b"."):
        return False
    if linesep == CRLF:
        return data.count(b"\n") == data.count(CRLF) == data.count(b"\r") and b"\n." not in data
    return b"\r" not in data and b"\n." not in data


def to_smtp(data: bytes) -> bytes:
    """CRLF line ends, a final line end, and dot-stuffing: what DATA needs before its ``.`` line."""
    if is_wire(data):
        return data
    data = _EOL.sub(CRLF, data)
    if not data.endswith(CRLF):
        data += CRLF
    return _DOT.sub(b"..", data)
