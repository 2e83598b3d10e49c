from dataclasses import asdict
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from api import present, schemas
from api.deps import CurrentAccount, IdempotencyKey, LedgerDep
from api.fields import CHECKED_TEXT, Limit, Offset
from api.routes import licences as licence_routes
from api.upload import StreamedUpload, form_json, json_field, read_json, read_multipart
from ledger import licences, splits, work_views, works
from ledger.errors import Forbidden, InvalidInput
from ledger.media_jobs import hashing
from ledger.models import Account, Role, WorkKind
from watermark.fingerprint import Fingerprint

router = APIRouter(prefix="/works", tags=["works"])
M = TypeVar("M", bound=BaseModel)

MASTER_FORM = {
    "schema": {
        "type": "object",
        "required": ["file", "metadata"],
        "properties": {
            "file": {"type": "string", "format": "binary", "description": "The master file, streamed."},
            "metadata": json_field("WorkMetadataIn", "WorkMetadataIn as JSON."),
        },
    }
}
REGISTER_BODIES = {
    "requestBody": {
        "content": {
            "multipart/form-data": MASTER_FORM,
            "application/json": {"schema": {"$ref": "#/components/schemas/WorkRegisterByHash"}},
        },
        "required": True,
    }
}
JOB_BODIES = {"requestBody": {"content": {"multipart/form-data": MASTER_FORM}, "required": True}}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=REGISTER_BODIES,
    responses={
        202: {"model": schemas.WorkPublic, "description": "Registered; the chain has not confirmed it yet."},
        409: {"model": schemas.ErrorBody, "description": "Exact duplicate."},
    },
    response_model=schemas.WorkPublic,
)
async def register_work(
    request: Request,
    response: Response,
    ledger: LedgerDep,
    account: CurrentAccount,
    idempotency_key: IdempotencyKey = None,
) -> schemas.WorkPublic:
    """Register a work from an uploaded master file (hashed as it streams) or from its SHA-256,
    answering once it is registered; POST /works/jobs answers an upload at once with a job."""
    _check_registrar(account)  # before receiving a whole master
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        upload = await _read_master(request, ledger)
        try:
            meta = _parse(schemas.WorkMetadataIn, form_json(upload.fields.get("metadata"), "metadata"))
            fingerprint, frames = (
                await run_in_threadpool(works.fingerprints_of, upload.path) if upload.path else (None, None)
            )
        finally:
            upload.discard()
        assert upload.sha256 is not None  # there is a file part, hashed as it streamed
        sha256, size = upload.sha256, upload.size
    else:
        body = _parse(schemas.WorkRegisterByHash, await read_json(request))
        sha256, size = works.parse_work_id(body.sha256), None
        fingerprint = None
        frames = works.parse_frames(body.frames.model_dump()) if body.frames else None
        if body.fingerprint:
            try:
                fingerprint = Fingerprint.from_hex(body.fingerprint.kind, body.fingerprint.hashes)
            except ValueError:
                raise InvalidInput("fingerprint", "fingerprint hashes are hexadecimal pHash values") from None
        meta = body
    view = await run_in_threadpool(
        works.register_work,
        ledger,
        account,
        sha256=sha256,
        meta=works.WorkMeta(meta.title, meta.kind, meta.parent, [p.model_dump() for p in meta.parties]),
        fingerprint=fingerprint,
        frames=frames,
        size_bytes=size,
        idempotency_key=idempotency_key,
    )
    parent = await run_in_threadpool(work_views.work_ids, ledger.engine, [view.work.parent_id])
    response.status_code = status.HTTP_201_CREATED if view.status == "confirmed" else status.HTTP_202_ACCEPTED
    return _shaped(view, parent)


@router.post(
    "/jobs",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=JOB_BODIES,
    responses={202: {"description": "Stored; the job hashes it and registers the work (follow GET /jobs/{id})."}},
)
async def register_work_as_job(
    request: Request, ledger: LedgerDep, account: CurrentAccount, idempotency_key: IdempotencyKey = None
) -> schemas.JobPublic:
    """Register a work from an uploaded master, answered at once: hashing a feature film's frames
    takes minutes, so the upload is stored and a job hashes it and registers the work; the job
    (GET /jobs/{id}) shows its progress and, once done, the work id. POST /works takes the same
    form and answers when the work is registered."""
    _check_registrar(account)  # before receiving a whole master
    upload = await _read_master(request, ledger)
    try:
        meta = _parse(schemas.WorkMetadataIn, form_json(upload.fields.get("metadata"), "metadata"))
        assert upload.sha256 is not None  # there is a file part, hashed as it streamed
        job = await run_in_threadpool(
            hashing.register_as_job,
            ledger,
            account,
            upload=upload.path,
            sha256=upload.sha256,
            size=upload.size,
            meta=works.WorkMeta(meta.title, meta.kind, meta.parent, [p.model_dump() for p in meta.parties]),
            idempotency_key=idempotency_key,
        )
    finally:
        upload.discard()  # moved into the job's storage when accepted
    return present.job(job)


def _check_registrar(account: Account) -> None:
    """Refused before the body is read: an account that may not register should not have to
    upload a whole master to learn it."""
    if account.role != Role.rights_holder:
        raise Forbidden("only a rights holder registers works; sign in with a rights holder's key")


async def _read_master(request: Request, ledger: LedgerDep) -> StreamedUpload:
    """The registration form, its master kept whole when it is media (for its frame hashes)."""
    upload = await read_multipart(
        request, ledger.settings.data_dir / "uploads", max_bytes=ledger.settings.max_upload_bytes, whole_media=True
    )
    if not upload.has_file:
        upload.discard()
        raise InvalidInput("file", "the form has no file part")
    return upload


def _shaped(view: works.WorkView, parents: dict[int, str]) -> schemas.WorkPublic:
    """`parents`: the work ids of the series among the views' works (`work_views.work_ids`)."""
    return present.work(view, parent=parents[view.work.parent_id] if view.work.parent_id is not None else None)


def _parse(model: type[M], raw: object) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


@router.get("")
def list_works(
    ledger: LedgerDep,
    account: CurrentAccount,
    offset: Offset = 0,
    limit: Limit = 50,
    kind: WorkKind | None = None,
    title: Annotated[str, Query(max_length=300, description="Part of the title."), CHECKED_TEXT] | None = None,
) -> schemas.WorkPage:
    views, total = works.list_works(ledger, account, offset=offset, limit=limit, kind=kind, title=title)
    parents = work_views.work_ids(ledger.engine, (v.work.parent_id for v in views))
    return schemas.WorkPage(total=total, offset=offset, limit=limit, items=[_shaped(v, parents) for v in views])


@router.get("/{work_id}")
def read_work(work_id: str, ledger: LedgerDep, account: CurrentAccount) -> schemas.WorkDetail:
    """The work as ReelLedger holds it, with its on-chain state read back from the chain."""
    view = works.get_work(ledger, account, work_id)
    base = _shaped(view, work_views.work_ids(ledger.engine, [view.work.parent_id]))
    record = works.registration_on_chain(ledger, view.work)
    on_chain = schemas.OnChainWork(**asdict(record)) if record else None
    versions = splits.split_versions(ledger, account, work_id) if on_chain else []
    return schemas.WorkDetail(
        **base.model_dump(),
        on_chain=on_chain,
        licences=licence_routes.shaped(
            ledger, licences.licences_of_work(ledger, account, work_id), view.work.work_id, account
        ),
        splits=[present.split_version(v) for v in versions],
    )


@router.get("/{work_id}/metadata", response_class=Response, responses=schemas.document("The metadata document."))
def read_metadata(work_id: str, ledger: LedgerDep, account: CurrentAccount) -> Response:
    """The exact metadata document whose SHA-256 is on chain."""
    work = works.get_work(ledger, account, work_id).work
    return Response(works.metadata_of(ledger, work), media_type="application/json")
