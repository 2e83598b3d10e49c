"""Play reports: a platform streams its rows in; reading them back, and the rows held back."""

import io
from collections.abc import Callable, Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response

from api import present, schemas
from api.body import BodyBroken, BodyPipe, Digest, stream_to
from api.deps import CurrentAccount, LedgerDep
from api.fields import CHECKED_TEXT, Day, Limit, LongLimit, Offset, RowIdQuery
from api.once import Once
from ledger.days import day_number
from ledger.errors import Forbidden, InvalidInput
from ledger.models import Role
from ledger.reports import ingest, signing, views
from ledger.reports.blocks import Block, item_blocks, items_of, ndjson_blocks
from ledger.reports.check import check_rows
from ledger.service import Ledger

router = APIRouter(prefix="/reports", tags=["reports"])

NDJSON = ("application/x-ndjson", "application/jsonl")
KINDS = (*NDJSON, "text/csv", "application/json")

_ROWS = {"type": "array", "items": {"$ref": "#/components/schemas/PlayRowIn"}}
REPORT_BODIES = {
    "requestBody": {
        "required": True,
        "description": "The rows, streamed: NDJSON (one PlayRowIn object a line), CSV (a header row naming "
        "PlayRowIn's fields, then one row a line) or JSON (an array of PlayRowIn, or PlayRowsIn).",
        "content": {
            **{kind: {"schema": _ROWS} for kind in NDJSON},
            "text/csv": {"schema": _ROWS},
            "application/json": {"schema": {"anyOf": [_ROWS, {"$ref": "#/components/schemas/PlayRowsIn"}]}},
        },
    }
}


def _kind(request: Request) -> str:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in KINDS:
        raise InvalidInput("content-type", f"send rows as one of {', '.join(KINDS)}")
    return kind


def _source(kind: str, pipe: BodyPipe, ledger: Ledger) -> Callable[[ingest.ReportHeader], Iterator[Block]]:
    """How the rows of a body of this kind are read: NDJSON in blocks on worker processes, the
    others row by row here."""
    if kind in NDJSON:
        return lambda h: ndjson_blocks(io.BufferedReader(pipe), ledger.parse_pool(), h.currency, h.first_day, h.end_day)
    return lambda h: item_blocks(items_of(kind, io.BufferedReader(pipe)), h.currency, h.first_day, h.end_day)


def _signature(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        raw = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise InvalidInput("signature", "X-Report-Signature is hex") from None
    if len(raw) != 65:
        raise InvalidInput("signature", "an EIP-712 signature is 65 bytes (r, s, v)")
    return raw


@router.post(
    "",
    status_code=201,
    response_model=schemas.ReportPublic,
    openapi_extra=REPORT_BODIES,
    responses={200: {"model": schemas.ReportPublic, "description": "The same report was received before."}},
)
async def post_report(
    request: Request,
    response: Response,
    ledger: LedgerDep,
    account: CurrentAccount,
    report_id: Annotated[
        str, Query(min_length=1, max_length=200, description="The platform's own id for this report."), CHECKED_TEXT
    ],
    period_start: Annotated[Day, Query(description="First day of the period (YYYY-MM-DD).")],
    period_end: Annotated[Day, Query(description="Last day of the period, inclusive.")],
    currency: Annotated[str, Query(min_length=3, max_length=3), CHECKED_TEXT],
    once: Once,
    supersedes: Annotated[str, Query(max_length=200, description="Id of the report this one corrects."), CHECKED_TEXT]
    | None = None,
    x_report_signature: str | None = Header(default=None, description="The platform's EIP-712 signature, hex."),
) -> schemas.ReportPublic | Response:
    """Stream a play report in (NDJSON, CSV or JSON by Content-Type). Nothing counts until the
    whole report has arrived and its signature checks out. Every row names every column (the
    quantities too, 0 where there is none); a report with bad rows is a 422 listing them all
    (the first 100, and how many in all) in `details.problems` and `details.total`. The same
    report sent again is known by its id and content; under an Idempotency-Key its body is
    compared byte for byte (its SHA-256), as an uploaded file is."""
    kind = _kind(request)
    header = ingest.ReportHeader(
        report_id=report_id,
        first_day=day_number(period_start),
        end_day=day_number(period_end) + 1,
        currency=currency.upper(),
        supersedes=supersedes,
    )
    signature = _signature(x_report_signature)

    def work(pipe: BodyPipe) -> ingest.Ingested:
        try:
            return ingest.ingest(ledger, account, header, source=_source(kind, pipe, ledger), signature=signature)
        except UnicodeDecodeError:
            raise InvalidInput("body", "the rows are not UTF-8 text") from None

    async def receive(sha256: Digest | None) -> schemas.ReportPublic:
        try:
            result = await stream_to(request, work, sha256)
        except BodyBroken:
            raise InvalidInput("body", "the upload was cut off; nothing of it was kept, send it again") from None
        response.status_code = 201 if result.created else 200
        return present.report(result.report, result.op)

    return await once.streamed(request, receive, {"kind": kind, "signature": x_report_signature})


# No Idempotency-Key: checking keeps nothing, so a repeat is harmless.
@router.post("/check", openapi_extra=REPORT_BODIES)
async def check_report(request: Request, ledger: LedgerDep, account: CurrentAccount) -> schemas.ReportCheck:
    """Every bad row of a report body (the first 100, and how many in all), without keeping anything:
    what to fix before posting it."""
    if account.role != Role.platform:
        raise Forbidden("only a platform account checks play reports")
    kind = _kind(request)
    try:
        result = await stream_to(
            request,
            lambda pipe: check_rows(ledger.engine, kind, io.BufferedReader(pipe), ledger.settings.settlement_currency),
        )
    except BodyBroken:
        raise InvalidInput("body", "the upload was cut off; send it again") from None
    return schemas.ReportCheck.model_validate(result, from_attributes=True)


@router.get("/signing-domain")
def signing_domain(ledger: LedgerDep) -> schemas.SigningDomain:
    """What a platform signs over: the EIP-712 domain and types of a report summary."""
    chain = ledger.chain
    return present.signing_domain(signing.domain(chain.chain_id, chain.addresses["SettlementRegistry"]))


@router.get("")
def list_reports(
    ledger: LedgerDep, account: CurrentAccount, offset: Offset = 0, limit: Limit = 50
) -> list[schemas.ReportPublic]:
    """A platform's own reports; auditors see all."""
    return [present.report(r, op) for r, op in views.list_reports(ledger, account, offset=offset, limit=limit)]


@router.get("/held")
def held_rows(
    ledger: LedgerDep,
    account: CurrentAccount,
    state: Annotated[
        Literal["held", "released"] | None,
        Query(description="Only rows still held, or only rows a later period settled; both when left out."),
    ] = None,
    offset: Offset = 0,
    limit: LongLimit = 100,
) -> list[schemas.HeldRow]:
    """Rows that no licence covered when they arrived: why each is held and what it would earn, or
    which period settled it once a licence covered it. A platform sees its own, a rights holder
    those on its works, an auditor all."""
    rows = views.held_rows(ledger, account, state=state, offset=offset, limit=limit)
    return [present.held_row(row) for row in rows]


@router.get("/{report_id}")
def get_report(
    report_id: Annotated[str, Path(max_length=200), CHECKED_TEXT],
    ledger: LedgerDep,
    account: CurrentAccount,
    platform_id: RowIdQuery = None,
) -> schemas.ReportPublic:
    report = views.get_report(ledger, account, report_id, platform_id=platform_id)
    return present.report(report, ledger.chain.outbox.get(report.op_id) if report.op_id else None)
