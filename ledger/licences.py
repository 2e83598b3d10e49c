"""Licences and sub-licences (授权/转授) between accounts, recorded on chain through the outbox.

Only a work's owner grants root licences; only the holder of a sub-licensable licence grants
sub-licences. The contract enforces the rest (scope within the parent, exclusivity) and its
refusals come back by name.

A root licence with the `derive` right carries upstream terms (the kinds of derivative it allows,
the parent's share in basis points, an optional minimum per valid play): what every derivative
registered under it owes the licensed work (ledger.derivatives). The terms are checked here before
anything is sent and stored with the licence; they never change.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlmodel import Session, col, select

from ledger.accounts import authorise_service
from ledger.chain.hexes import from_0x
from ledger.chain.outbox import raise_for
from ledger.chain.registries import DerivativeTerms, Right, Scope
from ledger.choices import DerivativeKind
from ledger.db import commit_or, must_get, session
from ledger.errors import Conflict, Forbidden, InvalidInput, NotFound
from ledger.idempotency import check_same, earlier_request, key_in_use, request_digest
from ledger.limits import DB_INT_MAX
from ledger.models import Account, ChainOp, LicenceRecord, OpStatus, Work
from ledger.op_views import OpView
from ledger.service import Ledger
from ledger.territories import territory_codes, territory_mask
from ledger.works import get_work

RIGHT_NAMES = {right.name.lower(): right for right in Right if right.name}  # every member has one
DERIVE = "derive"
KIND_NAMES = [kind.value for kind in DerivativeKind]
MAX_MIN_MICRO = DB_INT_MAX  # a BIGINT column; the contract takes up to 2^128 - 1


def parse_kind(name: str, field: str) -> DerivativeKind:
    """A derivative kind by its name, or a clear InvalidInput naming the field."""
    try:
        return DerivativeKind(name.lower())
    except ValueError:
        raise InvalidInput(field, f"{name!r} is not one of {KIND_NAMES}") from None


@dataclass(frozen=True)
class UpstreamTerms:
    """What each derivative made under a licence owes the licensed work."""

    kinds: list[str]
    share_bps: int
    min_per_valid_play_micro: int = 0

    def chain_terms(self) -> DerivativeTerms:
        if not self.kinds:
            raise InvalidInput("derivative.kinds", "at least one kind of derivative is needed")
        kinds = {parse_kind(name, "derivative.kinds") for name in self.kinds}
        if not 0 <= self.share_bps <= 10_000:
            raise InvalidInput("derivative.share_bps", "the upstream share is 0 to 10,000 basis points")
        if not 0 <= self.min_per_valid_play_micro <= MAX_MIN_MICRO:
            raise InvalidInput("derivative.min_per_valid_play_micro", f"the minimum per play is 0 to {MAX_MIN_MICRO}")
        ordered = tuple(kind for kind in DerivativeKind if kind in kinds)
        return DerivativeTerms(ordered, self.share_bps, self.min_per_valid_play_micro)


@dataclass(frozen=True)
class LicenceTerms:
    licensee_id: int
    territories: list[str]
    rights: list[str]
    start: int
    end: int
    exclusive: bool = False
    sublicensable: bool = False
    derivative: UpstreamTerms | None = None

    def upstream(self, *, root: bool) -> DerivativeTerms | None:
        """The checked upstream terms: present exactly when the rights include `derive`, on a root licence only."""
        derive = DERIVE in (name.lower() for name in self.rights)
        if derive and not root:
            raise InvalidInput("rights", "derive is granted on root licences only, by the work's owner")
        if derive and self.derivative is None:
            raise InvalidInput("derivative", "the derive right needs upstream terms: kinds and share_bps")
        if self.derivative is not None and not derive:
            raise InvalidInput("derivative", "upstream terms need the derive right among the rights")
        return self.derivative.chain_terms() if self.derivative is not None else None

    def scope(self) -> Scope:
        try:
            territories = territory_mask(self.territories)
        except ValueError as exc:
            raise InvalidInput("territories", str(exc)) from None
        if not self.rights:
            raise InvalidInput("rights", "at least one right is needed")
        mask = 0
        for name in self.rights:
            if name.lower() not in RIGHT_NAMES:
                raise InvalidInput("rights", f"{name!r} is not one of {sorted(RIGHT_NAMES)}")
            mask |= RIGHT_NAMES[name.lower()]
        if self.start >= self.end:
            raise InvalidInput("end", "a licence must end after it starts")
        if self.end <= time.time():
            raise InvalidInput("end", "a licence must end in the future")
        return Scope(territories, mask, self.start, self.end, self.exclusive, self.sublicensable)


@dataclass(frozen=True)
class LicenceView(OpView):
    record: LicenceRecord
    op: ChainOp
    revoke_op: ChainOp | None

    @property
    def status(self) -> str:
        if self.revoke_op is not None and self.revoke_op.status == OpStatus.confirmed:
            return "revoked"
        return super().status


def grant_licence(
    ledger: Ledger, account: Account, work_id: str, terms: LicenceTerms, *, idempotency_key: str | None = None
) -> LicenceView:
    work = get_work(ledger, account, work_id).work
    if work.owner_id != account.id:
        raise Forbidden("only the work's owner grants licences on it")
    return _grant(ledger, account, work, None, terms, idempotency_key)


def grant_sublicence(
    ledger: Ledger, account: Account, parent_pk: int, terms: LicenceTerms, *, idempotency_key: str | None = None
) -> LicenceView:
    parent = _record_for(ledger, account, parent_pk)
    if parent.licensee_id != account.id:
        raise Forbidden("only the holder of a licence sub-licenses it")
    if not parent.sublicensable:
        raise Forbidden(f"licence {parent_pk} may not be sub-licensed")
    if parent.chain_licence_id is None:
        raise Conflict("licence_pending", f"licence {parent_pk} is not confirmed on chain yet")
    with session(ledger.engine) as db:
        work = must_get(db, Work, parent.work_pk)
    return _grant(ledger, account, work, parent, terms, idempotency_key)


def _grant(
    ledger: Ledger,
    account: Account,
    work: Work,
    parent: LicenceRecord | None,
    terms: LicenceTerms,
    idempotency_key: str | None,
) -> LicenceView:
    scope = terms.scope()
    upstream = terms.upstream(root=parent is None)
    territories = sorted(territory_codes(scope.territories))
    rights = sorted(r.lower() for r in terms.rights)
    upstream_inputs = (
        {}
        if upstream is None
        else {"derivative": [[k.value for k in upstream.kinds], upstream.share_bps, upstream.min_per_valid_play_micro]}
    )
    authorise_service(ledger, account)
    with session(ledger.engine) as db:
        licensee = db.get(Account, terms.licensee_id)
        if licensee is None:
            raise InvalidInput("licensee_id", f"no account {terms.licensee_id}")
        digest = request_digest(
            "sublicence" if parent else "licence",
            work_id=work.work_id,
            parent=parent.id if parent else None,
            licensee_id=licensee.id,
            territories=territories,
            rights=rights,
            start=terms.start,
            end=terms.end,
            exclusive=terms.exclusive,
            sublicensable=terms.sublicensable,
            **upstream_inputs,
        )
        if idempotency_key:
            again = earlier_request(db, LicenceRecord, idempotency_key, grantor_id=account.id)
            if again is not None:
                check_same(again, idempotency_key, digest, "licence")
                return _view(db, again)
        chain = ledger.chain
        if parent is None and upstream is not None:
            call = ledger.registries.grant_with_terms_call(
                work_id=from_0x(work.work_id), licensee=licensee.address, scope=scope, terms=upstream
            )
        elif parent is None:
            call = ledger.registries.grant_call(work_id=from_0x(work.work_id), licensee=licensee.address, scope=scope)
        else:
            assert parent.chain_licence_id is not None  # grant_sublicence checked that the parent is confirmed
            call = ledger.registries.grant_sublicence_call(
                parent_id=parent.chain_licence_id, licensee=licensee.address, scope=scope
            )
        op_key = f"licence:{account.id}:{idempotency_key or uuid.uuid4().hex}"
        op = chain.outbox.record(db, op_key, chain.signer, call)
        record = LicenceRecord(
            work_pk=work.id,
            parent_pk=parent.id if parent else None,
            grantor_id=account.id,
            licensee_id=licensee.id,
            territories=territories,
            rights=rights,
            start=terms.start,
            end=terms.end,
            exclusive=terms.exclusive,
            sublicensable=terms.sublicensable,
            derivative_kinds=None if upstream is None else [kind.value for kind in upstream.kinds],
            upstream_bps=None if upstream is None else upstream.share_bps,
            upstream_min_micro=None if upstream is None else upstream.min_per_valid_play_micro,
            idempotency_key=idempotency_key,
            request_digest=digest,
            op_id=op.id,
        )
        db.add(record)
        commit_or(db, key_in_use(idempotency_key))
    return _finish(ledger, record.id)


def revoke_licence(ledger: Ledger, account: Account, licence_pk: int) -> LicenceView:
    record = _record_for(ledger, account, licence_pk)
    with session(ledger.engine) as db:
        work = must_get(db, Work, record.work_pk)
        parent = db.get(LicenceRecord, record.parent_pk) if record.parent_pk else None
    may = work.owner_id == account.id or (parent is not None and parent.licensee_id == account.id)
    if not may:
        raise Forbidden("only the work's owner or the grantor of a sub-licence revokes it")
    chain_id = record.chain_licence_id
    if chain_id is None:
        raise Conflict("licence_pending", f"licence {licence_pk} is not confirmed on chain yet")
    chain = ledger.chain
    with session(ledger.engine) as db:
        row = must_get(db, LicenceRecord, record.id)
        op = chain.outbox.record(
            db, f"revoke-licence:{chain_id}", chain.signer, ledger.registries.revoke_call(chain_id)
        )
        row.revoke_op_id = op.id
        db.add(row)
        db.commit()
    chain.outbox.send(op.id)
    done = ledger.settle(op.id)
    if done.status in (OpStatus.rejected, OpStatus.reverted):
        with session(ledger.engine) as db:
            row = must_get(db, LicenceRecord, record.id)
            row.revoke_op_id = None
            db.add(row)
            db.commit()
        raise_for(done)
    return get_licence(ledger, account, licence_pk)


def _finish(ledger: Ledger, record_pk: int) -> LicenceView:
    with session(ledger.engine) as db:
        op_id = must_get(db, LicenceRecord, record_pk).op_id
    ledger.finish_write(op_id, LicenceRecord, record_pk)
    with session(ledger.engine) as db:
        record = must_get(db, LicenceRecord, record_pk)
        _fill_chain_id(ledger, db, record)
        return _view(db, record)


def _view(db: Session, record: LicenceRecord) -> LicenceView:
    op = must_get(db, ChainOp, record.op_id)
    return LicenceView(record, op, db.get(ChainOp, record.revoke_op_id) if record.revoke_op_id else None)


def _record_for(ledger: Ledger, account: Account, licence_pk: int) -> LicenceRecord:
    view = get_licence(ledger, account, licence_pk)
    return view.record


def get_licence(ledger: Ledger, account: Account, licence_pk: int) -> LicenceView:
    """A licence the account may see: its work's owner, its licensee, its grantor, or a reader of all."""
    with session(ledger.engine) as db:
        record = db.get(LicenceRecord, licence_pk)
        if record is not None:
            work = must_get(db, Work, record.work_pk)
            _fill_chain_id(ledger, db, record)
        if record is None or not (
            account.role.value in ("auditor", "admin")
            or account.id in (work.owner_id, record.licensee_id, record.grantor_id)
        ):
            raise NotFound("licence", licence_pk)
        return _view(db, record)


def licences_of_work(ledger: Ledger, account: Account, work_id: str) -> list[LicenceView]:
    work = get_work(ledger, account, work_id).work
    with session(ledger.engine) as db:
        records = db.exec(
            select(LicenceRecord).where(col(LicenceRecord.work_pk) == work.id).order_by(col(LicenceRecord.id))
        ).all()
        seen = [
            r
            for r in records
            if account.role.value in ("auditor", "admin") or account.id in (work.owner_id, r.licensee_id, r.grantor_id)
        ]
        for r in seen:
            _fill_chain_id(ledger, db, r)
        return [_view(db, r) for r in seen]


def _fill_chain_id(ledger: Ledger, db: Session, record: LicenceRecord) -> None:
    """Learn the chain's licence id from the confirmed grant's event, once."""
    if record.chain_licence_id is not None:
        return
    op = must_get(db, ChainOp, record.op_id)
    if op.status != OpStatus.confirmed:
        return
    record.chain_licence_id = ledger.registries.granted_licence_id(op)
    db.add(record)
    db.commit()
