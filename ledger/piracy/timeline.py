"""A case's timeline, one list for the API, CLI and console: found, notice sent, acknowledged,
removed, countered, action filed, restoration due, restored, re-found; each with its time, who
did it and, for the steps anchored on chain, the hash anchored and its anchor.

Restoration is judged on read against `counter_notices.clock`: a counter-notice's case is due
for restoration once its waiting period has passed without a court action marked as filed
within it; nothing has to run at the moment the period ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ledger.db import must_get, session
from ledger.errors import Conflict, Forbidden, InvalidInput, NotFound
from ledger.models import (
    Account,
    CaseLife,
    CaseStep,
    CaseStepKind,
    ChainOp,
    CounterNotice,
    NoticeDelivery,
    PiracyCase,
    TakedownNotice,
)
from ledger.piracy import counter_notices
from ledger.piracy.cases import CLOCK_SKEW, READ_ALL, _aware, get_case

if TYPE_CHECKING:
    from ledger.service import Ledger

Restoration = Literal["waiting", "due", "action_filed", "restored"]
FOUND_AGAIN = "found again by the crawler after its removal"


@dataclass(frozen=True)
class Step:
    kind: str
    at: datetime
    actor: str
    detail: str | None = None
    anchored_hash: str | None = None  # the SHA-256 anchored in the EvidenceRegistry for this step
    anchor: ChainOp | None = None


@dataclass(frozen=True)
class Timeline:
    case_id: int
    restoration: Restoration | None  # None: no counter-notice filed
    restoration_due_at: datetime | None
    steps: list[Step]
    counter_notice: CounterNotice | None


def restoration_of(
    notice: CounterNotice | None, marks: dict[CaseStepKind, CaseStep], now: datetime
) -> Restoration | None:
    if notice is None:
        return None
    due = _aware(notice.restoration_due_at)
    action = marks.get(CaseStepKind.action_filed)
    if action is not None and _aware(action.at) <= due:
        return "action_filed"
    if CaseStepKind.restored in marks:
        return "restored"
    return "due" if now >= due else "waiting"


def _marks(db: Session, case_id: int) -> dict[CaseStepKind, CaseStep]:
    return {s.kind: s for s in db.exec(select(CaseStep).where(CaseStep.case_id == case_id)).all()}


def _name(db: Session, account_id: int) -> str:
    return must_get(db, Account, account_id).name


def timeline(ledger: Ledger, account: Account, case_id: int) -> Timeline:
    """The case's steps in time order, for whoever may read the case."""
    case = get_case(ledger, account, case_id).case
    now = counter_notices.clock()
    with session(ledger.engine) as db:
        owner = _name(db, case.owner_id)
        steps = [
            Step(
                "found",
                _aware(case.first_seen_at),
                _name(db, case.crawler_id),
                case.url,
                case.evidence_hash,
                must_get(db, ChainOp, case.op_id),
            )
        ]
        sent = db.exec(
            select(TakedownNotice).where(
                TakedownNotice.case_id == case.id, TakedownNotice.delivery == NoticeDelivery.delivered
            )
        ).all()
        steps += [Step("notice_sent", _aware(n.delivered_at), owner, n.format) for n in sent if n.delivered_at]
        crawler = _name(db, case.crawler_id)
        for life in db.exec(select(CaseLife).where(CaseLife.case_id == case.id)).all():  # the lives before this one
            steps.append(Step("removed", _aware(life.gone_at), crawler, case.url))
            steps.append(Step("re_found", _aware(life.found_again_at), _name(db, life.crawler_id), FOUND_AGAIN))
        if case.gone_at is not None:
            steps.append(Step("removed", _aware(case.gone_at), crawler, case.url))
        notice = db.exec(select(CounterNotice).where(CounterNotice.case_id == case.id)).first()
        marks = _marks(db, case.id)
        state = restoration_of(notice, marks, now)
        if notice is not None:
            steps.append(
                Step(
                    "countered",
                    _aware(notice.filed_at),
                    notice.document["filer"]["name"] if _reads_filer(account, case) else "the notice's recipient",
                    ", ".join(notice.document["urls"]),
                    notice.document_hash,
                    must_get(db, ChainOp, notice.op_id),
                )
            )
            if state == "due" or (state == "restored" and _aware(notice.restoration_due_at) <= now):
                steps.append(Step("restoration_due", _aware(notice.restoration_due_at), "waiting period"))
        steps += [
            Step(kind.value, _aware(mark.at), _name(db, mark.actor_id), mark.note) for kind, mark in marks.items()
        ]
        steps.sort(key=lambda s: s.at)
        due = _aware(notice.restoration_due_at) if notice else None
        return Timeline(case.id, state, due, steps, notice)


def _reads_filer(account: Account, case: PiracyCase) -> bool:
    """A counter-notice names a person: the case's rights holder and auditors read who."""
    return account.id == case.owner_id or account.role in READ_ALL


def counter_notice(ledger: Ledger, account: Account, case_id: int) -> tuple[CounterNotice, ChainOp]:
    """The filed counter-notice and its anchor, for the case's rights holder and auditors (it names a person)."""
    view = get_case(ledger, account, case_id)
    if not _reads_filer(account, view.case):
        raise Forbidden("a counter-notice is read by the work's rights holder and auditors")
    with session(ledger.engine) as db:
        notice = db.exec(select(CounterNotice).where(CounterNotice.case_id == case_id)).first()
        if notice is None:
            raise NotFound("counter-notice", f"of case {case_id}")
        return notice, must_get(db, ChainOp, notice.op_id)


def mark(
    ledger: Ledger, account: Account, case_id: int, kind: CaseStepKind, at: datetime | None, note: str | None
) -> Timeline:
    """The rights holder marks a step; marking it again changes nothing (the first mark stands)."""
    view = get_case(ledger, account, case_id)
    if account.id != view.case.owner_id:
        raise Forbidden("only the work's rights holder marks a case's steps")
    now = counter_notices.clock()
    at = at or now
    if at > now + CLOCK_SKEW:
        raise InvalidInput("at", "at is in the future")
    with session(ledger.engine) as db:
        case = must_get(db, PiracyCase, case_id)
        marks = _marks(db, case_id)
        if kind not in marks:
            _check(db, case, kind, at, marks, now)
            db.add(CaseStep(case_id=case_id, kind=kind, at=at, actor_id=account.id, note=(note or None) and note[:500]))
            try:
                db.commit()
            except IntegrityError:  # marked at the same moment by another request
                db.rollback()
    return timeline(ledger, account, case_id)


def _check(
    db: Session, case: PiracyCase, kind: CaseStepKind, at: datetime, marks: dict[CaseStepKind, CaseStep], now: datetime
) -> None:
    notice = db.exec(select(CounterNotice).where(col(CounterNotice.case_id) == case.id)).first()
    if kind in (CaseStepKind.action_filed, CaseStepKind.restored) and notice is None:
        raise Conflict("no_counter_notice", f"case {case.id} has no counter-notice")
    if kind == CaseStepKind.action_filed:
        assert notice is not None  # checked above
        due = _aware(notice.restoration_due_at)
        if at > due:
            raise Conflict(
                "waiting_period_over",
                f"the waiting period ended {due.isoformat()}: an action filed later does not stop restoration",
            )
        if CaseStepKind.restored in marks:
            raise Conflict("case_restored", f"case {case.id} is marked restored")
    if kind == CaseStepKind.restored and restoration_of(notice, marks, now) == "action_filed":
        raise Conflict("action_filed", f"a court action is filed in case {case.id}: it is not restored")
    refound = db.exec(select(CaseLife.id).where(CaseLife.case_id == case.id)).first() is not None
    if kind == CaseStepKind.re_found and case.gone_at is None and not refound and CaseStepKind.restored not in marks:
        raise Conflict("not_removed", f"case {case.id}'s link was neither removed nor restored")
