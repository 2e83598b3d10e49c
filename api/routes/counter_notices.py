"""Counter-notices: the public form a notice's link opens (no account: the token is the
credential), and the case's timeline, counter-notice and the steps its rights holder marks."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import HTMLResponse

from api import present, schemas
from api.deps import CurrentAccount, LedgerDep, RowId
from api.once import Once
from api.schemas import CounterNoticeFiled, CounterNoticeForm, CounterNoticeIn, CounterNoticeOut, StepIn, TimelineOut
from ledger.distributions.records import document
from ledger.errors import Gone, NotFound
from ledger.models import CaseStepKind
from ledger.piracy import counter_notices, timeline
from ledger.service import Ledger

router = APIRouter(tags=["counter-notices"])

# The link's token: any text (its shape is checked with the lookup, so a malformed token is answered
# as an unknown one is).
TokenQuery = Annotated[str, Query(max_length=200, description="The token of the notice's counter-notice link.")]

# The form page: the console's policy (its own scripts only, no framing), and the token in its
# address never sent on as a Referer.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

# Keys are kept per account, and the filer has none; the link itself makes the write idempotent.
LinkIdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Accepted and not needed: a link files one counter-notice, the same filing sent again is "
        "answered with the first (200) and another one is refused (409 counter_notice_filed).",
    ),
]


T = TypeVar("T")


class UnknownLink(NotFound):
    """A token no counter-notice link has (or a malformed one): told in a sentence."""

    def __init__(self) -> None:
        super().__init__("counter-notice link", "with this token")
        self.details = {"kind": "counter-notice link"}


def _by_token(lookup: Callable[[], T]) -> T:
    """The lookup of a link by its token, with an unknown token's refusal worded for its reader."""
    try:
        return lookup()
    except NotFound as missing:
        if missing.details.get("kind") == "counter-notice link":
            raise UnknownLink() from None
        raise


def _when(at: datetime) -> str:
    """A moment as the console writes one: to the minute, in UTC."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)  # stored in UTC
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


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
    "/counter-notices",
    response_model=CounterNoticeForm,
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "The form, to a browser."}
    },
)
def counter_notice_form(token: TokenQuery, request: Request, ledger: LedgerDep) -> CounterNoticeForm | Response:
    """What a notice's link (`?token=`) concerns; a browser gets the form to file the counter-notice.
    An unknown or malformed token is the same 404, an expired one 410 (to a browser, as a page)."""
    browser = "text/html" in request.headers.get("accept", "")
    try:
        form = _form(ledger, _by_token(lambda: counter_notices.concerned(ledger, token)))
    except (NotFound, Gone) as refused:
        if not browser:
            raise
        return HTMLResponse(
            _refused_page(refused), status_code=404 if isinstance(refused, NotFound) else 410, headers=PAGE_HEADERS
        )
    if browser:
        return HTMLResponse(_page(form), headers=PAGE_HEADERS)
    return form


@router.post(
    "/counter-notices",
    response_model=CounterNoticeFiled,
    responses={201: {"model": CounterNoticeFiled, "description": "The counter-notice was filed."}},
)
def file_counter_notice(
    body: CounterNoticeIn, response: Response, ledger: LedgerDep, idempotency_key: LinkIdempotencyKey = None
) -> CounterNoticeFiled:
    """File the counter-notice through a notice's link, without an account (the token is the
    credential); the same one again answers 200 with the first, another one 409."""
    fields = body.model_dump()
    token = fields.pop("token")
    filed, created = _by_token(lambda: counter_notices.submit(ledger, token, counter_notices.Filing(**fields)))
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
        steps=[
            schemas.StepOut(**{**vars(s), "anchor": present.chain_status(s.anchor) if s.anchor else None})
            for s in t.steps
        ],
    )


@router.get("/cases/{case_id}/counter-notice")
def read_counter_notice(case_id: RowId, ledger: LedgerDep, account: CurrentAccount) -> CounterNoticeOut:
    """The counter-notice filed in the case: the work's rights holder and auditors read it."""
    notice, op = timeline.counter_notice(ledger, account, case_id)
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
    notice, _ = timeline.counter_notice(ledger, account, case_id)
    return Response(
        document(notice.document),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="case-{case_id}-counter-notice.json"'},
    )


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
        f'<label style="display: block"><input type="checkbox" name="urls" value="{e(u)}" checked> '
        f'<span class="mono">{e(u)}</span></label>'
        for u in form.urls
    )
    filed = (
        f'<p class="ok" data-testid="already-filed">A counter-notice was filed {e(_when(form.filed_at))}.</p>'
        if form.filed_at
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Counter-notice · case {form.case_id}</title><link rel="stylesheet" href="/console/static/app.css"></head>
<body><main style="max-width: 46rem; margin: 2rem auto"><section class="card" data-testid="counter-notice">
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


def _refused_page(refused: NotFound | Gone) -> str:
    """A link that opens no form, to a browser: why, in a page of the form's style."""
    e = html.escape
    title = "This link is not known" if isinstance(refused, NotFound) else "This link has expired"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Counter-notice · {e(title)}</title><link rel="stylesheet" href="/console/static/app.css"></head>
<body><main style="max-width: 46rem; margin: 2rem auto"><section class="card" data-testid="counter-notice-refused"
data-code="{e(refused.code)}">
<h1>Counter-notice (反通知): {e(title)}</h1>
<p class="error" role="alert">{e(refused.message[:1].upper() + refused.message[1:])}.</p>
<p class="muted">Open the link exactly as the takedown notice gives it; if it still fails, ask the sender of the
notice for a new one.</p>
</section></main></body></html>"""
