"""Decode a feed's bytes the way its publisher meant, then hand feedparser UTF-8.

Chinese sites often declare ``gb2312`` while writing characters only GBK or
GB18030 has, and servers often send a wrong ``charset`` header. feedparser
would trust one of the two labels and garble the text (or fall back to a
lossy parse). Here every candidate label is tried strictly, GB labels are
read as GB18030 (a superset), and the winner is re-encoded as UTF-8 with the
declaration and the header rewritten to say so.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_XML_DECL_RE = re.compile(rb"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])([A-Za-z0-9._:-]+)(["'])""")
_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# labels whose real-world content is a superset encoding
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "ascii": "utf-8",
    "us-ascii": "utf-8",
    "iso-8859-1": "cp1252",  # as browsers do (WHATWG)
    "latin-1": "cp1252",
}
# tried last when no label fits: what Chinese sites use
_FALLBACKS = ("gb18030",)


@dataclass
class Decoded:
    body: bytes  # UTF-8, declaration rewritten
    headers: dict[str, str]  # content-type charset rewritten
    encoding: str  # what the bytes really were
    label_ignored: str = ""  # a declared or sent label that did not fit, for the log


def _codec(label: str) -> str | None:
    label = label.strip().lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def to_utf8(body: bytes, headers: dict[str, str]) -> Decoded:
    declared = _XML_DECL_RE.match(body)
    content_type = headers.get("content-type", "")
    sent = _CHARSET_RE.search(content_type)
    labels = []
    if declared:
        labels.append(declared.group(2).decode("ascii"))
    if sent:
        labels.append(sent.group(1))
    codecs_named = [c for c in (_codec(label) for label in labels) if c]
    # Valid UTF-8 is almost never an accident, while UTF-8 bytes often pass as
    # GB18030: so UTF-8 goes first, after a BOM and any UTF-16/32 label.
    candidates = [name for bom, name in _BOMS if body.startswith(bom)][:1]
    candidates += [c for c in codecs_named if c.startswith("utf-16") or c.startswith("utf-32")]
    candidates += ["utf-8", *codecs_named, *_FALLBACKS]
    text, used = None, "utf-8"
    for name in dict.fromkeys(candidates):
        try:
            text = body.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
        used = name
        break
    if text is None:
        used = candidates[0]
        text = body.decode(used, errors="replace")
    out = text.lstrip("\ufeff").encode("utf-8")
    out = _XML_DECL_RE.sub(rb"\g<1>utf-8\g<3>", out, count=1)
    new_headers = dict(headers)
    if content_type:
        base = content_type.split(";", 1)[0].strip() or "application/xml"
        new_headers["content-type"] = f"{base}; charset=utf-8"
    real = used.removesuffix("-sig")
    ignored = [label for label in labels if _codec(label) not in (real, None)]
    return Decoded(out, new_headers, used, ", ".join(ignored))
