"""Content-Encoding decoders that never produce more than the body cap.

httpx decodes a whole network chunk at once, and one 64 KiB chunk of a gzip
bomb inflates to about 64 MiB before any size check could run. These
decoders are told how much room is left and stop past it.
"""

from __future__ import annotations

import zlib
from typing import Protocol

from ..errors import BadEncoding, TooLarge

try:
    import brotli
except ImportError:  # pragma: no cover - brotli is a dependency; this keeps it optional
    brotli = None


class Decoder(Protocol):
    def feed(self, data: bytes, room: int) -> bytes: ...
    def flush(self, room: int) -> bytes: ...


def _fit(out: bytes, room: int) -> bytes:
    if len(out) > room:
        raise TooLarge("decoded body too large")
    return out


class Identity:
    def feed(self, data: bytes, room: int) -> bytes:
        return _fit(data, room)

    def flush(self, room: int) -> bytes:
        return b""


class Zlib:
    """gzip (``wbits=31``) or deflate, which servers send zlib-wrapped or raw."""

    def __init__(self, wbits: int) -> None:
        self._wbits = wbits
        self._d = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes, room: int) -> bytes:
        try:
            out = self._d.decompress(data, room + 1)  # max_length 0 would mean unlimited
        except zlib.error as exc:
            if self._started or self._wbits != zlib.MAX_WBITS:
                raise BadEncoding(f"corrupt compressed body: {exc}") from None
            self._d = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as IIS sends it
            try:
                out = self._d.decompress(data, room + 1)
            except zlib.error as exc2:
                raise BadEncoding(f"corrupt compressed body: {exc2}") from None
        self._started = True
        return _fit(out, room)

    def flush(self, room: int) -> bytes:
        try:
            return _fit(self._d.flush(room + 1), room)
        except zlib.error as exc:
            raise BadEncoding(f"corrupt compressed body: {exc}") from None


class Brotli:
    def __init__(self) -> None:
        if brotli is None:  # pragma: no cover
            raise ValueError("br content-encoding needs the brotli package")
        self._d = brotli.Decompressor()

    def feed(self, data: bytes, room: int) -> bytes:
        try:
            out = self._d.process(data, output_buffer_limit=room + 1)
        except brotli.error as exc:
            raise BadEncoding(f"corrupt brotli body: {exc}") from None
        return _fit(out, room)

    def flush(self, room: int) -> bytes:
        return b""


class Chain:
    """``Content-Encoding: gzip, br`` was applied left to right: undo it right to left."""

    def __init__(self, decoders: list[Decoder]) -> None:
        self._decoders = decoders

    def feed(self, data: bytes, room: int) -> bytes:
        for d in self._decoders:
            data = d.feed(data, room)
        return data

    def flush(self, room: int) -> bytes:
        out = b""
        for i, d in enumerate(self._decoders):
            tail = d.flush(room)
            for later in self._decoders[i + 1 :]:
                tail = later.feed(tail, room)
            out += tail
        return _fit(out, room)


def accept_encoding() -> str:
    return "gzip, deflate, br" if brotli is not None else "gzip, deflate"


def decoder_for(content_encoding: str) -> Decoder:
    names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
    decoders: list[Decoder] = []
    for name in reversed(names):
        if name in ("gzip", "x-gzip"):
            decoders.append(Zlib(16 + zlib.MAX_WBITS))
        elif name == "deflate":
            decoders.append(Zlib(zlib.MAX_WBITS))
        elif name == "br":
            decoders.append(Brotli())
        elif name != "identity":
            raise BadEncoding(f"unsupported content-encoding {name!r}")
    if not decoders:
        return Identity()
    return decoders[0] if len(decoders) == 1 else Chain(decoders)
