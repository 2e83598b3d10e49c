"""Counter-notices: the public form a notice's link opens (no account: the token is the
credential), and the case's timeline, counter-notice and the steps its rights holder marks."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api import present, schemas
from api.deps import CurrentAccount, LedgerDep, RowId
from api.once import Once
from ledger.distributions.records import document
from ledger.models import CaseStepKind
from ledger.piracy import counter_notices, timeline
from ledger.service import Ledger

router = APIRouter(tags=["counter-notices"])

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]


class CounterNoticeIn(BaseModel):
    """A counter-notice as its filer sends it (17 U.S.C. 512(g)(3); 民法典 art. 1196)."""

    model_config = ConfigDict(extra="forbid")
    name: Line = Field(description="Who files it; the name is its signature.")
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    email: Email
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    urls: list[Url] = Field(min_length=1, max_length=10, description="The notice's URLs this counter-notice concerns.")
    good_faith: bool = Field(description="Must be true: the filer affirms the statement (see GET).")
    explanation: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] | None = None


class CounterNoticeForm(BaseModel):
    case_id: int
    title: str
    work_id: str
    rights_holder: str
    urls: list[str] = Field(description="The URLs the notice concerns; a counter-notice names some of them.")
    evidence_hash: str
    statement: str = Field(description="What `good_faith: true` affirms.")
    waiting_business_days: int
    filed_at: datetime | None = Field(description="When a counter-notice was filed through this link, if one was.")


class CounterNoticeFiled(BaseModel):
    case_id: int
    document_hash: str = Field(description="SHA-256 of the canonical document, anchored in the EvidenceRegistry.")
    filed_at: datetime
    restoration_due_at: datetime


class CounterNoticeOut(CounterNoticeFiled):
    document: dict[str, object]
    anchor: schemas.ChainStatus
    rights_holder_notified: str = Field(description="draft (no webhook), sending, delivered or failed")


class StepOut(BaseModel):
    kind: str = Field(
        description="found, notice_sent, acknowledged, removed, countered, action_filed, restoration_due, "
        "restored or re_found"
    )
    at: datetime
    actor: str
    detail: str | None
    anchored_hash: str | None = Field(description="The SHA-256 anchored on chain for this step, if any.")
    anchor: schemas.ChainStatus | None


class TimelineOut(BaseModel):
    case_id: int
    restoration: str | None = Field(
        description="None without a counter-notice; else waiting, due, action_filed or restored."
    )
    restoration_due_at: datetime | None
    steps: list[StepOut]


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: datetime | None = Field(default=None, description="When it happened; now when left out. With a time zone.")
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


def _form(ledger: Ledger, seen: counter_notices.Concerned) -> CounterNoticeForm:
    return CounterNoticeForm(
        case_id=seen.case.id,
        title=seen.work.title,
        work_id=seen.work.work_id,
        rights_holder=seen.owner.name,
        urls=seen.urls,
        evidence_hash=seen.case.evidence_hash,
        statement=counter_notices.STATEMENT,
        waiting_business_days=ledger.settings.counter_notice_wait_days,
        filed_at=seen.filed.filed_at if seen.filed else None,
    )


@router.get(
    "/counter-notices/{token}",
    response_model=CounterNoticeForm,
    responses={200: {"content": {"text/html": {}}, "description": "The form, as HTML to a browser."}},
)
def counter_notice_form(token: str, request: Request, ledger: LedgerDep) -> CounterNoticeForm | Response:
    """What a notice's link concerns; a browser gets the form to file the counter-notice."""
    form = _form(ledger, counter_notices.concerned(ledger, token))
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(_page(form), headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    return form


@router.post(
    "/counter-notices/{token}",
    response_model=CounterNoticeFiled,
    responses={201: {"model": CounterNoticeFiled, "description": "The counter-notice was filed."}},
)
def file_counter_notice(token: str, body: CounterNoticeIn, response: Response, ledger: LedgerDep) -> CounterNoticeFiled:
    """File the counter-notice; the same one again answers 200 with the first, another one 409."""
    filed, created = counter_notices.submit(ledger, token, counter_notices.Filing(**body.model_dump()))
    response.status_code = 201 if created else 200
    return CounterNoticeFiled(
        case_id=filed.case_id,
        document_hash=filed.document_hash,
        filed_at=filed.filed_at,
        restoration_due_at=filed.restoration_due_at,
    )


@router.get("/cases/{case_id}/timeline")
def read_timeline(case_id: RowId, ledger: LedgerDep, account: CurrentAccount) -> TimelineOut:
    """The case's steps in time order, with the on-chain anchor of each anchored one."""
    return _timeline(timeline.timeline(ledger, account, case_id))


def _timeline(t: timeline.Timeline) -> TimelineOut:
    return TimelineOut(
        case_id=t.case_id,
        restoration=t.restoration,
        restoration_due_at=t.restoration_due_at,
        steps=[StepOut(**{**vars(s), "anchor": present.chain_status(s.anchor) if s.anchor else None}) for s in t.steps],
    )


@router.get("/cases/{case_id}/counter-notice")
def read_counter_notice(case_id: RowId, ledger: LedgerDep, account: CurrentAccount) -> CounterNoticeOut:
    """The counter-notice filed in the case: the work's rights holder and auditors read it."""
    notice = timeline.counter_notice(ledger, account, case_id)
    from ledger.db import must_get, session
    from ledger.models import ChainOp

    with session(ledger.engine) as db:
        op = must_get(db, ChainOp, notice.op_id)
    return CounterNoticeOut(
        case_id=notice.case_id,
        document_hash=notice.document_hash,
        filed_at=notice.filed_at,
        restoration_due_at=notice.restoration_due_at,
        document=notice.document,
        anchor=present.chain_status(op),
        rights_holder_notified=notice.notify.value,
    )


@router.get(
    "/cases/{case_id}/counter-notice/document",
    response_class=Response,
    responses=schemas.document("The counter-notice document."),
)
def read_counter_notice_document(case_id: RowId, ledger: LedgerDep, account: CurrentAccount) -> Response:
    """The counter-notice, byte for byte as hashed and anchored: `reelledger verify evidence` checks it."""
    notice = timeline.counter_notice(ledger, account, case_id)
    return Response(
        document(notice.document),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="case-{case_id}-counter-notice.json"'},
    )


MARKS = {
    "acknowledged": CaseStepKind.acknowledged,
    "action-filed": CaseStepKind.action_filed,
    "restored": CaseStepKind.restored,
    "re-found": CaseStepKind.re_found,
}


def _mark_route(path: str, kind: CaseStepKind, summary: str) -> None:
    def mark_step(
        case_id: RowId, body: StepIn, ledger: LedgerDep, account: CurrentAccount, once: Once
    ) -> TimelineOut | Response:
        return once(lambda: _timeline(timeline.mark(ledger, account, case_id, kind, body.at, body.note)), body)

    mark_step.__doc__ = summary
    router.add_api_route(
        f"/cases/{{case_id}}/{path}",
        mark_step,
        methods=["POST"],
        response_model=TimelineOut,
        name=f"mark_{kind.value}",
        summary=f"Mark {path.replace('-', ' ')}",
    )


_mark_route("acknowledged", CaseStepKind.acknowledged, "The platform acknowledged the notice.")
_mark_route(
    "action-filed",
    CaseStepKind.action_filed,
    "A court action was filed within the waiting period: the case is not restored.",
)
_mark_route("restored", CaseStepKind.restored, "The material is back online after the counter-notice.")
_mark_route("re-found", CaseStepKind.re_found, "The material was found again after its removal.")


def _page(form: CounterNoticeForm) -> str:
    """The form a browser gets: plain HTML in the console's style, posted as JSON by counter-notice.js."""
    e = html.escape
    urls = "".join(
        f'<label><input type="checkbox" name="urls" value="{e(u)}" checked> <span class="mono">{e(u)}</span></label>'
        for u in form.urls
    )
    filed = (
        f'<p class="ok" data-testid="already-filed">A counter-notice was filed {e(form.filed_at.isoformat())}.</p>'
        if form.filed_at
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Counter-notice · case {form.case_id}</title><link rel="stylesheet" href="/console/static/app.css"></head>
<body><main><section class="card narrow" data-testid="counter-notice">
<h1>Counter-notice (反通知)</h1>
<p>The notice of case {form.case_id} from {e(form.rights_holder)} concerns the work
<strong>{e(form.title)}</strong> (<span class="mono">{e(form.work_id)}</span>); its evidence is anchored as
<span class="mono">{e(form.evidence_hash)}</span>.</p>
{filed}
<form id="counter-notice" autocomplete="on">
<fieldset><legend>The URLs this counter-notice concerns</legend>{urls}</fieldset>
<label for="cn-name">Name (your signature)</label><input id="cn-name" name="name" required maxlength="200">
<label for="cn-address">Address</label><textarea id="cn-address" name="address" required maxlength="500"></textarea>
<label for="cn-email">Email</label><input id="cn-email" name="email" type="email" required maxlength="254">
<label for="cn-phone">Phone</label><input id="cn-phone" name="phone" maxlength="40">
<label for="cn-explanation">Why the material was removed by mistake</label>
<textarea id="cn-explanation" name="explanation" maxlength="4000"></textarea>
<label><input type="checkbox" name="good_faith" required> {e(form.statement)}</label>
<p class="muted">Unless the rights holder files a court action within {form.waiting_business_days} business days,
the material is due to be restored.</p>
<button type="submit">File the counter-notice</button>
<p class="error" role="alert" hidden></p><p class="ok" role="status" hidden></p>
</form></section></main>
<script type="module" src="/console/static/counter-notice.js"></script></body></html>"""
