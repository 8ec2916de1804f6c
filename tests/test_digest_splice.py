"""The spliced base64 of a part decodes to exactly the text, with padding only at its end."""

from __future__ import annotations

import binascii
import random

import pytest

from syndicate.digest.splice import LINE, Spliced, canonical, encode_text

PIECES = ["a", "é", "中", "\n", "\r", "\r\n", " ", "x" * 50, "字" * 40, "."]
VALUES = ["a", "中", "é", "", "b" * 80, "https://example.org/u?t=abc.def"]


def decoded(encoded: bytes, sep: bytes) -> bytes:
    lines = encoded.split(sep)
    assert lines[-1] == b""
    lines = lines[:-1]
    assert all(0 < len(line) <= LINE for line in lines)
    joined = b"".join(lines)
    assert b"=" not in joined.rstrip(b"=")  # a decoder may stop at the first "="
    return binascii.a2b_base64(joined, strict_mode=True)


@pytest.mark.parametrize("sep", [b"\r\n", b"\n"])
def test_spliced_parts_decode_to_the_filled_text(sep):
    rng = random.Random(16)
    spliced = 0
    for _ in range(2000):
        k = rng.randint(0, 5)
        parts = []
        for i in range(2 * k + 1):
            if i % 2:
                parts.append(rng.choice(["greeting", "email", "url"]))
            else:
                parts.append("".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12))))
        values = {
            n: "".join(rng.choice(VALUES) for _ in range(rng.randint(0, 3)))
            for n in ("greeting", "email", "url")
        }
        text = parts[:]
        text[1::2] = [values[n] for n in parts[1::2]]
        want = canonical("".join(text).encode("utf-8"))
        out = Spliced(parts, sep).fill({n: v.encode("utf-8") for n, v in values.items()})
        if out is not None:
            spliced += 1
            assert decoded(out, sep) == want, (parts, values)
        assert decoded(encode_text("".join(text), sep), sep) == want
    assert spliced > 1500  # the plain path is for rare values only


def test_a_line_break_in_a_value_takes_the_plain_path():
    sp = Spliced(["Hello ", "greeting", "!\n"], b"\r\n")
    assert sp.fill({"greeting": b"a\nb"}) is None
    assert decoded(sp.fill({"greeting": b"Ann"}), b"\r\n") == b"Hello Ann!\r\n"
