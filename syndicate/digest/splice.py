"""Base64 body parts spliced from pieces encoded once per variant: per message, the personal bytes.

A part's text is literal runs with personal values between them
(``render.Placeholders.split``). base64 works in 3-byte groups, so the
encoding of a run depends on where it starts modulo 3: each run is encoded
once per variant in all three alignments (0, 1 or 2 of its first bytes
lent to the personal bytes before it). Per message only the personal values,
with the 0–2 bytes that bring them to the next 3-byte boundary, are encoded,
and the rest is joined as bytes.

Invariants (checked by tests/test_digest_splice.py against a plain encoding):

- decoding gives exactly the text with CRLF line ends and one final line
  end, as ``set_content(cte="base64")`` encodes it;
- every line holds at most 76 base64 characters, each piece ending its own
  line (RFC 2045 §6.8 sets a maximum, not a fixed length; decoders ignore
  line breaks), so lines are not all 76 long;
- ``=`` padding only on the last line, as in one continuous encoding (a
  decoder may stop at the first ``=``, so mid-stream padding would lose text).

``fill`` returns None for values it cannot splice faithfully (a line break
inside a value, or an empty value where the line ends on both sides could
merge); the caller then encodes the whole text (``encode_text``).
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass

_BREAK = re.compile(rb"\r\n|\r|\n")
_CRLF = b"\r\n"
LINE = 76  # base64 characters per line (57 bytes)


def lines(data: bytes, sep: bytes) -> bytes:
    """``data`` in base64, ``LINE`` characters a line, each line ended by ``sep``."""
    enc = binascii.b2a_base64(data, newline=False)
    if len(enc) <= LINE:
        return enc + sep if enc else b""
    return sep.join([enc[i : i + LINE] for i in range(0, len(enc), LINE)]) + sep


def canonical(text: bytes) -> bytes:
    """CRLF line ends and a final line end, as the reference message encodes a text part."""
    return _CRLF.join(text.splitlines()) + _CRLF


def encode_text(text: str, sep: bytes) -> bytes:
    """The whole part encoded in one piece: the path for values ``fill`` refuses."""
    return lines(canonical(text.encode("utf-8")), sep)


@dataclass(frozen=True)
class _Run:
    raw: bytes
    # by the number of leading bytes lent to the personal bytes before: the
    # encoding of the rest up to a 3-byte boundary, and the 0–2 bytes left over;
    # None for a run shorter than 3 bytes (it is encoded with the personal bytes)
    enc: tuple[bytes, bytes, bytes] | None
    tail: tuple[bytes, bytes, bytes]


def _run(raw: bytes, sep: bytes, last: bool) -> _Run:
    if len(raw) < 3:
        return _Run(raw, None, (b"", b"", b""))
    enc: list[bytes] = []
    tail: list[bytes] = []
    for lent in range(3):
        body = raw[lent:]
        cut = len(body) if last else len(body) - len(body) % 3
        enc.append(lines(body[:cut], sep))
        tail.append(body[cut:])
    return _Run(raw, (enc[0], enc[1], enc[2]), (tail[0], tail[1], tail[2]))


class Spliced:
    """One part of one variant: literal runs encoded in advance, values filled per message."""

    def __init__(self, parts: list[str], sep: bytes) -> None:
        literals = [_BREAK.sub(_CRLF, p.encode("utf-8")) for p in parts[0::2]]
        self.names = parts[1::2]
        self.sep = sep
        # the final line end: after the last literal when it does not end in one; a text
        # that ends in a value ends in no line break (values hold none), so it gets one
        self.ends_in_value = bool(self.names) and not literals[-1]
        if not literals[-1].endswith(_CRLF):
            literals[-1] += _CRLF
        # an empty value after a literal ending in "\r" may let it meet a "\n" further on
        self.cr_ended = any(t.endswith("\r") for t in parts[0:-1:2])
        first = literals[0]
        cut = len(first) - len(first) % 3
        if not self.names:
            cut = len(first)
        self.first_enc = lines(first[:cut], sep)
        self.first_tail = first[cut:]
        last = len(literals) - 1
        self.runs = [_run(lit, sep, i == last) for i, lit in enumerate(literals) if i]

    def fill(self, values: Mapping[str, bytes]) -> bytes | None:
        """The encoded part for these values (already UTF-8, already escaped), or None."""
        out = [self.first_enc]
        raw = self.first_tail
        sep = self.sep
        last = len(self.names) - 1
        for i, name in enumerate(self.names):
            value = values[name]
            if b"\r" in value or b"\n" in value:
                return None
            if not value and (self.cr_ended or (self.ends_in_value and i == last)):
                return None
            run = self.runs[i]
            raw += value
            if run.enc is None:
                raw += run.raw
                continue
            lent = -len(raw) % 3
            if lent:
                raw += run.raw[:lent]
            if raw:
                out.append(lines(raw, sep))
            out.append(run.enc[lent])
            raw = run.tail[lent]
        if raw:
            out.append(lines(raw, sep))
        return b"".join(out)
