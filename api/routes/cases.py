"""Piracy cases: copies of registered works found on the web, their evidence and notices."""

import hashlib

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError

from api import present, schemas
from api.deps import CurrentAccount, LedgerDep, RowId
from api.fields import Limit, Offset, WorkIdQuery
from api.once import Once
from api.upload import form_json, json_field, read_whole_file, upload_body
from ledger.distributions.records import document
from ledger.errors import Forbidden, InvalidInput
from ledger.models import Account, CaseStatus, Role, utcnow
from ledger.piracy import cases, delivery
from ledger.piracy.notices import FORMATS
from ledger.service import Ledger

router = APIRouter(tags=["piracy cases"])

SIGHTING_BODY = upload_body(
    {
        "sighting": json_field("SightingIn", "SightingIn as JSON."),
        "screenshot": {
            "type": "string",
            "format": "binary",
            "description": "Optional PNG of the page the copy was found on.",
        },
    }
)


def _sighting(text: str | None) -> cases.Sighting:
    try:
        fields = schemas.SightingIn.model_validate(form_json(text, "sighting"))
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    return cases.Sighting(**fields.model_dump())


def _present(ledger: Ledger, account: Account, view: cases.CaseView) -> schemas.CasePublic:
    shot = (cases.evidence_dir(ledger, view.case.evidence_hash) / "screenshot.png").exists()
    return present.case(
        view,
        evidence_registry=ledger.chain.addresses.get("EvidenceRegistry"),
        screenshot=shot,
        with_counter_link=view.case.owner_id == account.id,
    )


@router.post(
    "/cases",
    openapi_extra=SIGHTING_BODY,
    response_model=schemas.SightingOut,
    responses={201: {"model": schemas.SightingOut, "description": "A new case was opened."}},
)
async def report_sighting(
    request: Request, response: Response, ledger: LedgerDep, account: CurrentAccount, once: Once
) -> schemas.SightingOut | Response:
    """A crawler reports a copy it fetched: the service matches it to a registered work, reads
    its watermark, and opens a case (evidence anchored on chain, notices drafted), or counts
    a sighting of the case this work and URL already have."""
    if account.role != Role.crawler:  # before receiving the copy
        raise Forbidden("only a crawler reports copies found on the web")
    upload = await read_whole_file(
        request,
        ledger.settings.data_dir / "uploads",
        ledger.settings.max_detect_bytes,
        blob_limits={"screenshot": cases.MAX_SCREENSHOT_BYTES},
    )
    path, sha256 = upload.path, upload.sha256
    assert path is not None and sha256 is not None  # a whole file is kept with its hash
    try:
        sighting = _sighting(upload.fields.get("sighting"))
        screenshot = upload.blobs.get("screenshot") or None

        def report() -> schemas.SightingOut:
            outcome = cases.report_sighting(
                ledger,
                account,
                path=path,
                content_sha256=sha256,
                size=upload.size,
                sighting=sighting,
                screenshot=screenshot,
            )
            response.status_code = 201 if outcome.created else 200
            return schemas.SightingOut(
                matched=outcome.matched,
                created=outcome.created,
                case=_present(ledger, account, outcome.case) if outcome.case else None,
            )

        sent = {
            "sighting": sighting,
            "sha256": sha256.hex(),
            "screenshot": hashlib.sha256(screenshot).hexdigest() if screenshot else None,
        }
        return await run_in_threadpool(once, report, sent)
    finally:
        upload.discard()


@router.get("/cases")
def list_cases(
    ledger: LedgerDep,
    account: CurrentAccount,
    status: CaseStatus | None = None,
    work_id: WorkIdQuery | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> schemas.CasePage:
    views, total = cases.list_cases(ledger, account, status=status, work_id=work_id, offset=offset, limit=limit)
    return schemas.CasePage(
        total=total, offset=offset, limit=limit, items=[_present(ledger, account, v) for v in views]
    )


@router.get("/cases/lifetimes")
def lifetimes(ledger: LedgerDep, account: CurrentAccount) -> schemas.LifetimeSummary:
    """How long the links of the cases you may read lived, first seen to gone."""
    return present.lifetimes(cases.lifetimes(ledger, account))


@router.get("/cases/{case_id}")
def read_case(case_id: RowId, ledger: LedgerDep, account: CurrentAccount) -> schemas.CasePublic:
    return _present(ledger, account, cases.get_case(ledger, account, case_id))


@router.get("/cases/{case_id}/evidence", response_class=Response, responses=schemas.document("The evidence bundle."))
def read_evidence(case_id: RowId, ledger: LedgerDep, account: CurrentAccount) -> Response:
    """The evidence bundle, byte for byte as hashed and anchored: `reelledger verify evidence` checks it."""
    view = cases.get_case(ledger, account, case_id)
    return Response(
        document(view.case.evidence),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="case-{case_id}-evidence.json"'},
    )


@router.get(
    "/cases/{case_id}/evidence/copy",
    response_class=FileResponse,
    responses=schemas.binary("application/octet-stream", "The copy's bytes."),
)
def read_copy(case_id: RowId, ledger: LedgerDep, account: CurrentAccount) -> FileResponse:
    """The bytes the crawler fetched, whose SHA-256 the bundle names."""
    return FileResponse(
        cases.evidence_file(ledger, account, case_id, "copy"),
        media_type="application/octet-stream",
        filename=f"case-{case_id}-copy",
    )


@router.get(
    "/cases/{case_id}/evidence/screenshot",
    response_class=FileResponse,
    responses=schemas.binary("image/png", "The page's screenshot."),
)
def read_screenshot(case_id: RowId, ledger: LedgerDep, account: CurrentAccount) -> FileResponse:
    return FileResponse(cases.evidence_file(ledger, account, case_id, "screenshot.png"), media_type="image/png")


@router.post("/cases/{case_id}/checks", response_model=schemas.CasePublic)
def record_check(
    case_id: RowId,
    body: schemas.CaseCheckIn,
    ledger: LedgerDep,
    account: CurrentAccount,
    once: Once,
) -> schemas.CasePublic | Response:
    """A re-check of the case's link; a check that finds it gone closes the case and fixes its lifetime."""
    return once(
        lambda: _present(
            ledger,
            account,
            cases.record_check(
                ledger,
                account,
                case_id,
                alive=body.alive,
                checked_at=body.checked_at or utcnow(),
                http_status=body.http_status,
                detail=body.detail,
            ),
        ),
        body,
    )


@router.post("/cases/{case_id}/notices/{notice_format}/send", status_code=202, response_model=schemas.CasePublic)
def send_notice(
    case_id: RowId,
    notice_format: str,
    ledger: LedgerDep,
    account: CurrentAccount,
    once: Once,
) -> schemas.CasePublic | Response:
    """Send (or send again) a notice to the configured takedown endpoint; a retry under the same
    Idempotency-Key sends nothing more."""
    if notice_format not in FORMATS:
        raise InvalidInput("notice_format", f"the notice formats are {', '.join(FORMATS)}")

    def send() -> schemas.CasePublic:
        delivery.send_notice(ledger, account, case_id, notice_format)
        return _present(ledger, account, cases.get_case(ledger, account, case_id))

    return once(send)
