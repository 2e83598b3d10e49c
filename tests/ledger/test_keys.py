"""Keys held by ReelLedger are encrypted at rest under a master key kept outside the database."""

import base64
import secrets

import pytest
from cryptography.exceptions import InvalidTag
from eth_account import Account
from sqlmodel import select

from ledger.db import make_engine, migrate, session
from ledger.keys import KeyStore, load_master_key
from ledger.models import StoredKey


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'k.db'}")
    migrate(engine)
    return engine


def test_stored_key_is_ciphertext_and_decrypts_to_the_same_account(engine):
    key, master = secrets.token_bytes(32), secrets.token_bytes(32)
    store = KeyStore(engine, master)
    address = store.ensure("alice", "0x" + key.hex())
    with session(engine) as db:
        row = db.exec(select(StoredKey)).one()
    assert key not in row.ciphertext
    assert address == Account.from_key(key).address
    assert bytes(KeyStore(engine, master).account(address).key) == key


def test_ensure_is_idempotent_per_label(engine):
    store = KeyStore(engine, secrets.token_bytes(32))
    assert store.ensure("svc") == store.ensure("svc")
    assert store.ensure("svc") != store.ensure("other")


def test_wrong_master_key_cannot_decrypt(engine):
    address = KeyStore(engine, secrets.token_bytes(32)).ensure("bob")
    with pytest.raises(InvalidTag):
        KeyStore(engine, secrets.token_bytes(32)).account(address)


def test_ciphertext_moved_to_another_address_fails(engine):
    master = secrets.token_bytes(32)
    store = KeyStore(engine, master)
    a, b = store.ensure("a"), store.ensure("b")
    with session(engine) as db:
        row_a = db.exec(select(StoredKey).where(StoredKey.address == a)).one()
        row_b = db.exec(select(StoredKey).where(StoredKey.address == b)).one()
        row_b.nonce, row_b.ciphertext = row_a.nonce, row_a.ciphertext
        db.add(row_b)
        db.commit()
    with pytest.raises(InvalidTag):
        KeyStore(engine, master).account(b)


def test_master_key_file_is_created_private_and_reused(tmp_path):
    first = load_master_key(tmp_path, None)
    assert (tmp_path / "master.key").stat().st_mode & 0o777 == 0o600
    assert load_master_key(tmp_path, None) == first


def test_master_key_of_wrong_length_is_refused(tmp_path):
    with pytest.raises(ValueError, match="32 bytes"):
        load_master_key(tmp_path, base64.b64encode(b"short").decode())


def test_configured_key_that_differs_from_the_stored_one_is_refused(engine):
    store = KeyStore(engine, secrets.token_bytes(32))
    store.ensure("service-signer", "0x" + secrets.token_bytes(32).hex())
    with pytest.raises(ValueError, match="different key"):
        store.ensure("service-signer", "0x" + secrets.token_bytes(32).hex())


def test_a_custodial_key_is_found_by_its_address_in_any_case(engine):
    master = secrets.token_bytes(32)
    address = KeyStore(engine, master).ensure("any-case")
    keys = KeyStore(engine, master)  # a fresh store: nothing cached
    for spelling in (address.lower(), "0x" + address[2:].upper()):
        assert keys.account(spelling).address == address
        assert keys.holds(spelling)
