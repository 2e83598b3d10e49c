"""Idempotency keys as payment APIs treat them: a key names one request. The same key with the
same request repeats nothing and answers with what the first one made; the same key with a
different request is refused (409 idempotency_key_reused), never answered with the old result.

A request is compared by the SHA-256 of its canonical form: the parsed domain inputs as JSON
with sorted keys, so key order and whitespace in the client's body do not matter (an upload
is its file's SHA-256 plus its fields)."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol, TypeVar, cast

from sqlmodel import Session, SQLModel, select

from ledger.chain.hexes import to_0x
from ledger.errors import Conflict

T = TypeVar("T", bound=SQLModel)


class Digested(Protocol):
    """A stored request: every table written under an Idempotency-Key keeps its request's digest."""

    @property
    def request_digest(self) -> str | None: ...


def request_digest(kind: str, **inputs: object) -> str:
    canonical = json.dumps({"kind": kind, **inputs}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return to_0x(hashlib.sha256(canonical.encode()).digest())


def key_reused(key: str, what: str) -> Conflict:
    return Conflict(
        "idempotency_key_reused",
        f"Idempotency-Key {key!r} was used for a different {what}; a new request needs a new key",
        idempotency_key=key,
    )


def key_in_use(key: str | None) -> Conflict:
    return Conflict(
        "idempotency_key_reused",
        f"Idempotency-Key {key!r} is being used by another request; retry it shortly",
        idempotency_key=key,
    )


def check_same(row: Digested, key: str, digest: str, what: str) -> None:
    """Refuse a stored request's key used for a different one (rows from before digests were
    kept have none: the caller compares what it can)."""
    if row.request_digest is not None and row.request_digest != digest:
        raise key_reused(key, what)


def earlier_request(db: Session, model: type[T], key: str, **owner: int) -> T | None:
    """The row of `model` that a request under Idempotency-Key `key` made before, or None.
    Keys are the client's own: `owner` names the one column that says whose (`owner_id=7`)."""
    ((column, value),) = owner.items()
    table = cast(Any, model)  # a table model with an idempotency_key column
    return db.exec(select(model).where(getattr(table, column) == value, table.idempotency_key == key)).first()
