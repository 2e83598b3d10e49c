"""`0x` strings and the bytes they stand for.

The service keeps hashes, ids and signatures as lower-case `0x` strings (in the database, the
API and statements) and hands the contracts raw bytes. These are the only conversions between
the two, so that a period id, a work id or a root reads and converts the same way everywhere.
"""

from __future__ import annotations

from eth_utils import decode_hex, encode_hex

ZERO32 = bytes(32)


def to_0x(value: bytes | bytearray) -> str:
    """`0x` and the lower-case hex of `value`."""
    return str(encode_hex(bytes(value)))


def from_0x(text: str) -> bytes:
    """The bytes a hex string stands for (with or without `0x`); ValueError if it is not hex."""
    return decode_hex(text)


def to_bytes32(text: str) -> bytes:
    """A bytes32 value (a work, period or report id, a root, a hash) from its hex string."""
    raw = from_0x(text)
    if len(raw) != 32:
        raise ValueError(f"{text!r} is {len(raw)} bytes, not 32")
    return raw
