"""Map a URL path to a file inside a folder, or refuse.

Written by hand because the check must be exact: a URL path is untrusted, and
a symlink inside ``feeds.dir`` may point anywhere. Whatever the spelling
(``..``, ``%2e%2e``, ``%2f``, backslashes, NUL), the resolved file must lie
inside the resolved root, or nothing is served.
"""

from __future__ import annotations

import re
from pathlib import Path

# encoded "/", "\" and NUL have no business in a path: they only serve to hide ".."
_ENCODED_SEPARATORS = re.compile(rb"%(2f|5c|00)", re.IGNORECASE)


def raw_path_safe(raw: bytes) -> bool:
    """False for a request path (still percent-encoded) that tries to smuggle a separator."""
    if _ENCODED_SEPARATORS.search(raw) or b"\\" in raw or b"\x00" in raw:
        return False
    return all(seg not in (b"..", b".") for seg in _decoded_segments(raw))


def _decoded_segments(raw: bytes) -> list[bytes]:
    from urllib.parse import unquote_to_bytes

    return [unquote_to_bytes(seg) for seg in raw.split(b"/")]


def resolve_inside(root: Path, relative: str, *, index: str = "index.html") -> Path | None:
    """The regular file ``relative`` names under ``root``, or None.

    A trailing slash means the folder's ``index``. Hidden names (``.x``) are
    refused too: the builder's temporary files start with a dot.
    """
    if "\x00" in relative or "\\" in relative:
        return None
    parts = relative.split("/")
    if parts[-1] == "":
        parts[-1] = index
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    try:
        base = root.resolve(strict=True)
        target = base.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, a symlink loop, a name too long
        return None
    if base not in target.parents or not target.is_file():
        return None
    return target
