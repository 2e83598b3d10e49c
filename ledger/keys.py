"""Private keys that ReelLedger holds: the service signer and custodial account keys.

Each key is encrypted with AES-256-GCM under a master key that never enters the database
(an environment setting, or a 0600 file in the data directory). The key's address is the
associated data, so a ciphertext moved to another row fails to decrypt.
"""

from __future__ import annotations

import base64
import os
import secrets
import threading
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import is_address, to_checksum_address
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from ledger.db import session
from ledger.models import StoredKey

MASTER_KEY_FILE = "master.key"


class KeyNotFound(LookupError):
    """No key is held for this address or label."""


def load_master_key(data_dir: Path, configured: str | None) -> bytes:
    """The configured master key, else the data directory's key file, created on first use."""
    if configured:
        key = base64.b64decode(configured)
    else:
        path = data_dir / MASTER_KEY_FILE
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(base64.b64encode(AESGCM.generate_key(bit_length=256)))
        key = base64.b64decode(path.read_bytes())
    if len(key) != 32:
        raise ValueError("the master key must be 32 bytes, base64-encoded")
    return key


class KeyStore:
    """Encrypted keys in the database, decrypted on demand and cached in memory."""

    def __init__(self, engine: Engine, master_key: bytes) -> None:
        self._engine = engine
        self._aead = AESGCM(master_key)
        self._cache: dict[str, LocalAccount] = {}
        self._lock = threading.Lock()

    def ensure(self, label: str, private_key: str | None = None) -> str:
        """The address of the key stored under `label`, storing `private_key` or a new key if none is."""
        with session(self._engine) as db:
            row = db.exec(select(StoredKey).where(StoredKey.label == label)).first()
            if row is not None:
                if private_key and Account.from_key(private_key).address != row.address:
                    raise ValueError(f"a different key is already stored as {label!r} ({row.address})")
                return row.address
            # eth_account's Account.from_key is a combomethod, which its stubs leave untyped.
            account: LocalAccount = Account.from_key(private_key or secrets.token_bytes(32))
            nonce = secrets.token_bytes(12)
            ciphertext = self._aead.encrypt(nonce, bytes(account.key), account.address.encode())
            db.add(StoredKey(address=account.address, label=label, nonce=nonce, ciphertext=ciphertext))
            try:
                db.commit()
            except IntegrityError:  # another process stored it first: use theirs
                db.rollback()
                return db.exec(select(StoredKey).where(StoredKey.label == label)).one().address
            return account.address

    def address_of(self, label: str) -> str:
        with session(self._engine) as db:
            row = db.exec(select(StoredKey).where(StoredKey.label == label)).first()
        if row is None:
            raise KeyNotFound(label)
        return row.address

    def account(self, address: str) -> LocalAccount:
        if is_address(address):  # held checksummed, as every address is; asked for in any case
            address = to_checksum_address(address)
        with self._lock:
            cached = self._cache.get(address)
        if cached is not None:
            return cached
        with session(self._engine) as db:
            row = db.exec(select(StoredKey).where(StoredKey.address == address)).first()
        if row is None:
            raise KeyNotFound(address)
        account: LocalAccount = Account.from_key(self._aead.decrypt(row.nonce, row.ciphertext, address.encode()))
        with self._lock:
            self._cache[address] = account
        return account

    def holds(self, address: str) -> bool:
        try:
            self.account(address)
        except KeyNotFound:
            return False
        return True
