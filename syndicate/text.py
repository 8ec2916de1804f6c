"""Text helpers every step shares: what may go into XML, e-mail and file names alike.

Kept free of heavy imports (no lxml, no nh3) so that a step that only needs
them, or a no-op collect, starts without loading the HTML stack.
"""

from __future__ import annotations

import re

# C0/C1 controls, lone surrogates and the two non-characters: XML 1.0 cannot carry them
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def strip_control(text: str) -> str:
    """Drop characters XML cannot carry; they break feeds for every reader."""
    return _CONTROL_RE.sub("", text)


_ENCODED_WORD_RE = re.compile(r"=\?|\?=")


def display_name(text: str, limit: int = 200) -> str:
    """A name as it may stand in a ``To:`` header: one line, no controls, no encoded words.

    ``=?…?=`` is removed because Python's email package before 3.11.10 and
    3.12.5 (CVE-2024-6923) decodes an encoded word in a display name back into
    CR/LF when it folds the header, which would let a name a reader typed add
    headers, or a body, to the mail sent to it. Written by hand: no library
    cleans a display name for this.
    """
    text = "".join(ch for ch in text if ch.isprintable())
    while _ENCODED_WORD_RE.search(text):
        text = _ENCODED_WORD_RE.sub("", text)
    return " ".join(text.split())[:limit]
