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
