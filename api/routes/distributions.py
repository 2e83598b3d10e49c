"""Watermarked distributions of works, and tracing a found copy back to one."""

from fastapi import APIRouter, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError

from api import present, schemas
from api.deps import CurrentAccount, IdempotencyKey, LedgerDep, RowId
from api.fields import Limit, Offset, WorkIdQuery
from api.upload import form_json, json_field, read_whole_file, upload_body
from ledger.distributions import copies, records, screens, trace
from ledger.errors import Forbidden, InvalidInput
from ledger.models import Role

router = APIRouter(tags=["distributions"])

UPLOAD_BODY = upload_body({"distribution": json_field("DistributionIn", "DistributionIn as JSON.")})
DETECT_BODY = upload_body({})


def _distribution_fields(text: str | None) -> schemas.DistributionIn:
    try:
        return schemas.DistributionIn.model_validate(form_json(text, "distribution"))
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


@router.post(
    "/works/{work_id}/distributions",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=UPLOAD_BODY,
    responses={202: {"description": "Recorded; the copy is being marked (poll the distribution)."}},
)
async def create_distribution(
    work_id: str, request: Request, ledger: LedgerDep, account: CurrentAccount, idempotency_key: IdempotencyKey = None
) -> schemas.DistributionPublic:
    """Distribute a work to a platform: upload its master (checked against the registered
    SHA-256); a copy carrying this distribution's own payload is made and its record anchored."""
    if account.role != Role.rights_holder:  # before receiving a whole master
        raise Forbidden("only a rights holder distributes works")
    upload = await read_whole_file(request, ledger.settings.data_dir / "uploads", ledger.settings.max_upload_bytes)
    assert upload.path is not None and upload.sha256 is not None  # a whole file is kept with its hash
    try:
        fields = _distribution_fields(upload.fields.get("distribution"))
        view = await run_in_threadpool(
            copies.create_distribution,
            ledger,
            account,
            work_id,
            platform=fields.platform,
            master=upload.path,
            master_sha256=upload.sha256,
            master_name=upload.file_name,
            session_label=fields.session,
            tier=fields.tier,
            idempotency_key=idempotency_key,
        )
    finally:
        upload.discard()  # moved into storage when accepted; removed otherwise
    return present.distribution(view)


@router.get("/distributions")
def list_distributions(
    ledger: LedgerDep,
    account: CurrentAccount,
    work_id: WorkIdQuery | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> schemas.DistributionPage:
    views, total = copies.list_distributions(ledger, account, work_id=work_id, offset=offset, limit=limit)
    return schemas.DistributionPage(
        total=total, offset=offset, limit=limit, items=[present.distribution(v) for v in views]
    )


@router.get("/distributions/{dist_id}", response_model_by_alias=True)
def read_distribution(dist_id: RowId, ledger: LedgerDep, account: CurrentAccount) -> schemas.DistributionPublic:
    return present.distribution(copies.get_distribution(ledger, account, dist_id))


@router.get(
    "/distributions/{dist_id}/record", response_class=Response, responses=schemas.document("The anchored record.")
)
def read_record(dist_id: RowId, ledger: LedgerDep, account: CurrentAccount) -> Response:
    """The canonical record whose SHA-256 is anchored on chain, byte for byte."""
    view = copies.get_distribution(ledger, account, dist_id)
    if view.dist.record is None:
        raise InvalidInput("distribution", f"distribution {dist_id} has no record yet ({view.status})")
    return Response(records.document(view.dist.record), media_type="application/json")


@router.get(
    "/distributions/{dist_id}/copy",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The watermarked copy.",
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}} for kind in ("video/mp4", "image/png")
            },
        }
    },
)
def download_copy(dist_id: RowId, ledger: LedgerDep, account: CurrentAccount) -> FileResponse:
    path, view = copies.copy_file(ledger, account, dist_id)
    media = "video/mp4" if view.dist.media_kind == "video" else "image/png"
    return FileResponse(path, media_type=media, filename=f"distribution-{dist_id}{path.suffix}")


# No Idempotency-Key: tracing reads a copy and keeps nothing, so a repeat is harmless.
@router.post("/detect", openapi_extra=DETECT_BODY)
async def detect(
    request: Request,
    ledger: LedgerDep,
    account: CurrentAccount,
    seconds: float = Query(trace.DEFAULT_SECONDS, gt=0, le=3600, description="Seconds of video to read at most."),
    screen: str | None = Query(
        None,
        max_length=200,
        description="A copy filmed off a screen whose outline is not found by itself: the marked picture's "
        "corners in the copy's pixels, top-left, top-right, bottom-right, bottom-left, as 'X,Y X,Y X,Y X,Y' "
        "(with marked_size).",
    ),
    marked_size: str | None = Query(
        None, max_length=20, description="With screen: the size the picture was marked at, as WIDTHxHEIGHT."
    ),
) -> schemas.TraceOut:
    """Which distribution a copy came from: its watermark read under the keys the caller may
    use, the distribution it names, and whether that record is anchored on chain."""
    if account.role not in trace.TRACE_ROLES:
        raise Forbidden("tracing copies needs the role rights_holder, crawler, auditor or admin")
    where = screens.parse_screen(screen, marked_size)
    upload = await read_whole_file(request, ledger.settings.data_dir / "uploads", ledger.settings.max_detect_bytes)
    assert upload.path is not None  # a whole file is kept
    try:
        found = await run_in_threadpool(
            trace.trace_file, ledger, account, upload.path, max_seconds=seconds, screen=where
        )
    finally:
        upload.discard()
    return present.trace(found)
