"""Idempotency-Key for the write routes whose domain keeps no key of its own (creating accounts,
rotating keys, revoking licences, closing periods, claims, disputes, cases, ...), as payment APIs
do it: the first request under a key runs and its answer is kept; the same request again gets
that answer and runs nothing; another request under the key is refused (409
idempotency_key_reused, naming the key). Keys belong to an account: another account's same key is
another key. A request is compared by `ledger.idempotency.request_digest` of its route, path and
query parameters and parsed body, so key order and whitespace do not matter.

A key's life, one `request_key` row, unique per account and key:

    (none) --claim--> running --finish--> answered --(idempotency_keep)--> purged, free again
                       |   '--release: the request failed (4xx, 5xx) --> (none): a retry runs
                       '-- older than idempotency_takeover: its process stopped --> a retry takes it over

Two requests claiming at once both insert; the unique constraint lets one in, the other meets a
running row and is told the key is in use (409), not run. A request that was overtaken (its
claim taken over as stale) stores nothing: its `claimed_at` is no longer the row's. A process
that stops after the work but before its answer is kept leaves the key running: the retry that
takes it over runs the request again, and the domain's own checks (an account's name, a revoked
licence, a disputed line, the outbox's keys) answer or refuse the repeat.

Answers are sealed: AES-256-GCM under a key derived from the master key (HKDF, as the watermark
keys are), the row's account, key, route and digest as associated data, so a sealed answer moved
to another row does not open. Why keep them at all, when POST /accounts and POST
/accounts/{id}/key answer an API key that is "shown once"? A client whose connection dropped
before it read that answer has only the retry to learn it: answering the retry "shown once,
rotate again" would leave a new account with a key nobody knows and lock a rotated one out
until another rotation, the very outcome the key is there to prevent. Sealed, the answer is as
safe as the custodial private keys the same master key already protects (worth more than an
API key), it opens only for the same account sending the same key and request, and it is gone
after `idempotency_keep`. Every answer is sealed, not only those two routes': a route added
later that answers a secret is then safe without having to say so.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import ColumnElement, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import col, delete, select, update

from ledger.db import session
from ledger.errors import Conflict
from ledger.idempotency import key_in_use, key_reused
from ledger.models import RequestKey, utcnow

log = logging.getLogger("reelledger.request_keys")

INFO = b"reelledger stored answers v1"
NONCE_BYTES = 12


@dataclass(frozen=True)
class Held:
    """Whose key, on which route."""

    account_id: int
    key: str
    route: str


@dataclass(frozen=True)
class Claim:
    """The key is this request's to run under: finish it with the answer, or release it."""

    held: Held
    id: int
    claimed_at: datetime  # the claim's mark: only the row still so claimed is finished or released


@dataclass(frozen=True)
class Earlier:
    """A request under this key already finished: its answer, still sealed, for `replay` to
    compare the digest and open."""

    held: Held
    digest: str | None
    status: int
    sealed: bytes


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes  # JSON


class RequestKeys:
    def __init__(self, engine: Engine, master_key: bytes, *, keep: timedelta, takeover: timedelta) -> None:
        self._engine = engine
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO)
        self._aead = AESGCM(hkdf.derive(master_key))
        self.keep, self.takeover = keep, takeover

    def claim(self, held: Held, digest: str | None) -> Claim | Earlier:
        """Take the key for this request, or learn that a request under it already finished.
        `digest` is None when it is known only after the body is read (a streamed body): the
        caller compares it by `replay` then."""
        key, mine = held.key, RequestKey.account_id == held.account_id
        for _ in range(3):  # a row seen here may be purged, finished or taken over before we act on it
            now = utcnow()
            with session(self._engine) as db:
                db.exec(delete(RequestKey).where(col(RequestKey.created_at) < now - self.keep))
                row = RequestKey(
                    account_id=held.account_id,
                    key=key,
                    route=held.route,
                    request_digest=digest,
                    claimed_at=now,
                    created_at=now,
                )
                db.add(row)
                try:
                    db.commit()
                    return Claim(held, row.id, now)
                except IntegrityError:
                    db.rollback()
                other = db.exec(select(RequestKey).where(mine, RequestKey.key == key)).first()
                if other is None:
                    continue
                if other.route != held.route:
                    raise key_reused(key, f"request ({other.route})")
                if digest and other.request_digest and other.request_digest != digest:
                    raise key_reused(key, "request")
                if other.status is not None:
                    assert other.answer is not None  # stored with the status, in one update
                    return Earlier(held, other.request_digest, other.status, other.answer)
                if other.claimed_at > now - self.takeover:
                    raise key_in_use(key)
                taken = db.exec(
                    update(RequestKey)
                    .where(
                        col(RequestKey.id) == other.id,
                        col(RequestKey.status).is_(None),
                        col(RequestKey.claimed_at) == other.claimed_at,
                    )
                    .values(claimed_at=now, request_digest=digest)
                )
                db.commit()
                if taken.rowcount == 1:
                    log.warning(
                        "Idempotency-Key %r of account %d: the request that took it at %s never finished; "
                        "running it again",
                        key,
                        held.account_id,
                        other.claimed_at.isoformat(),
                    )
                    return Claim(held, other.id, now)
        raise key_in_use(key)

    def replay(self, earlier: Earlier, digest: str) -> Answer:
        """The answer of the earlier request under this key, if it was this very request."""
        if earlier.digest != digest:
            raise key_reused(earlier.held.key, "request")
        nonce, ciphertext = earlier.sealed[:NONCE_BYTES], earlier.sealed[NONCE_BYTES:]
        try:
            return Answer(earlier.status, self._aead.decrypt(nonce, ciphertext, _bound(earlier.held, digest)))
        except InvalidTag:  # another master key, or an answer that is not this row's
            key = earlier.held.key
            raise Conflict(
                "idempotency_answer_unreadable",
                f"the request made under Idempotency-Key {key!r} was carried out, but its kept answer cannot be "
                "opened (the master key changed?); read the result instead of retrying",
                idempotency_key=key,
            ) from None

    def finish(self, claim: Claim, digest: str, answer: Answer) -> None:
        """Keep the answer of the request that held the key (a streamed body's digest lands now)."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, answer.body, _bound(claim.held, digest))
        with session(self._engine) as db:
            db.exec(
                update(RequestKey)
                .where(*_still(claim))
                .values(status=answer.status, answer=sealed, request_digest=digest)
            )
            db.commit()

    def release(self, claim: Claim) -> None:
        """The request failed: free the key so that a retry runs. If the database does not answer,
        the row stays until a retry takes it over as stale."""
        try:
            with session(self._engine) as db:
                db.exec(delete(RequestKey).where(*_still(claim)))
                db.commit()
        except SQLAlchemyError as exc:
            log.warning("could not free Idempotency-Key row %d (%s); a retry takes it over later", claim.id, exc)


def _still(claim: Claim) -> tuple[ColumnElement[bool], ...]:
    """The claim's row, if it is still running under this claim (not taken over, not purged)."""
    return (
        col(RequestKey.id) == claim.id,
        col(RequestKey.status).is_(None),
        col(RequestKey.claimed_at) == claim.claimed_at,
    )


def _bound(held: Held, digest: str) -> bytes:
    """The associated data of a sealed answer: it opens only in its own row."""
    return json.dumps([held.account_id, held.key, held.route, digest], separators=(",", ":")).encode()
