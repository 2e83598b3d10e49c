"""Watermark keys: one per rights holder, derived from the master key, never stored.

Each rights holder's copies are marked under their own key, so one tenant's key reads
nothing of another's, and a trace by a rights holder tries only their key. Deriving the key
(HKDF-SHA256 of the master key, bound to the holder's address) means it can always be made
again and never sits in the database; `key_id` names it in records without revealing it."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ledger.chain.hexes import to_0x

KEY_BYTES = 32
INFO = b"reelledger watermark key v1:"


class WatermarkKeys:
    def __init__(self, master_key: bytes) -> None:
        self._master = master_key

    def key_for(self, owner_address: str) -> bytes:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=INFO + owner_address.lower().encode())
        return hkdf.derive(self._master)


def key_id(key: bytes) -> str:
    """A short public name of a key: the first 8 bytes of a domain-separated SHA-256."""
    return to_0x(hashlib.sha256(b"reelledger watermark key id:" + key).digest()[:8])
