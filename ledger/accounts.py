"""Accounts, their roles and API keys.

An API key is `rlk_<prefix>_<secret>`: the prefix finds the account, the SHA-256 of the whole
key is compared in constant time, and the key itself is shown once, at creation (or to a retry
under that request's Idempotency-Key, from the answer `ledger.request_keys` keeps sealed for a
day), and never stored in clear. A random 256-bit secret needs no slow password hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_utils import is_address, to_checksum_address
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from ledger.db import commit_or, session
from ledger.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from ledger.keys import KeyStore
from ledger.limits import normal_name, text_problem
from ledger.models import Account, OpStatus, Role, utcnow

if TYPE_CHECKING:
    from ledger.service import Ledger

KEY_SCHEME = "rlk"


@dataclass(frozen=True)
class NewAccount:
    account: Account
    api_key: str  # shown once


def _new_key() -> tuple[str, str, str]:
    prefix = secrets.token_hex(6)
    key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hashlib.sha256(key.encode()).hexdigest()


def custodial_label(address: str) -> str:
    return f"account:{address}"


def create_account(engine: Engine, keys: KeyStore, *, name: str, role: Role, address: str | None = None) -> NewAccount:
    """A new account with a fresh API key; without `address`, ReelLedger generates and keeps its key."""
    problem = text_problem(name)
    if problem:
        raise InvalidInput("name", f"the name {problem}")
    name = normal_name(name)
    if not name:
        raise InvalidInput("name", "an account needs a name")
    if address is not None:
        if not is_address(address):
            raise InvalidInput("address", f"{address!r} is not an EVM address")
        address, custodial = to_checksum_address(address), False
    else:
        address = keys.ensure(custodial_label(f"{name[:48]}:{secrets.token_hex(8)}"))  # a label holds 80 characters
        custodial = True
    key, prefix, digest = _new_key()
    account = Account(name=name, role=role, address=address, custodial=custodial, key_prefix=prefix, key_hash=digest)
    with session(engine) as db:
        db.add(account)
        commit_or(db, Conflict("account_exists", f"an account named {name!r} or with address {address} exists"))
    return NewAccount(account, key)


def authenticate(engine: Engine, api_key: str | None) -> Account:
    """The account an API key belongs to; a missing, unknown or revoked key is refused alike."""
    if not api_key:
        raise Unauthenticated("an API key is required (Authorization: Bearer <key>)")
    parts = api_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_SCHEME:
        raise Unauthenticated("the API key is not valid")
    with session(engine) as db:
        account = db.exec(select(Account).where(Account.key_prefix == parts[1])).first()
    digest = hashlib.sha256(api_key.encode()).hexdigest()
    if account is None or not hmac.compare_digest(digest, account.key_hash) or account.key_revoked_at:
        raise Unauthenticated("the API key is not valid")
    return account


def rotate_key(engine: Engine, account_id: int) -> str:
    """A new API key for the account; the old one stops working at once."""
    key, prefix, digest = _new_key()
    with session(engine) as db:
        account = _existing(db, account_id)
        account.key_prefix, account.key_hash, account.key_revoked_at = prefix, digest, None
        db.add(account)
        db.commit()
    return key


def revoke_key(engine: Engine, account_id: int) -> Account:
    with session(engine) as db:
        account = _existing(db, account_id)
        account.key_revoked_at = utcnow()
        db.add(account)
        db.commit()
        return account


def get_account(engine: Engine, account_id: int) -> Account:
    with session(engine) as db:
        return _existing(db, account_id)


def _existing(db: Session, account_id: int) -> Account:
    account = db.get(Account, account_id)
    if account is None:
        raise NotFound("account", account_id)
    return account


def list_accounts(engine: Engine, *, offset: int = 0, limit: int = 50) -> list[Account]:
    with session(engine) as db:
        return list(db.exec(select(Account).order_by(col(Account.id)).offset(offset).limit(limit)).all())


def account_by_address(engine: Engine, address: str) -> Account | None:
    with session(engine) as db:
        return db.exec(select(Account).where(Account.address == to_checksum_address(address))).first()


ON_CHAIN_ROLES = {Role.rights_holder, Role.platform}


def authorise_service(ledger: Ledger, account: Account) -> None:
    """Let the service sign for a custodial account on chain (operator approval), once.

    Accounts that bring their own address approve the service themselves, from their wallet:
    `WorkRegistry.setOperator(<service signer>, true)`.
    """
    if not account.custodial or account.role not in ON_CHAIN_ROLES:
        return
    chain = ledger.chain
    key = f"approve-operator:{account.address}"
    done = chain.outbox.by_key(key)
    if done is not None and done.status == OpStatus.confirmed:
        return
    call = ledger.registries.set_operator_call(chain.signer, True)
    op = chain.outbox.submit(key, account.address, call)  # its gas comes from the funding key (chain/gas.py)
    ledger.settle(op.id)  # raises InsufficientFunds, by name, when nobody can pay for the approval
