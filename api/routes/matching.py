"""Which registered work a suspect copy is, and where in it."""

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api import present, schemas
from api.deps import CurrentAccount, LedgerDep
from api.upload import read_json, read_whole_file, upload_body
from ledger import matching
from ledger.errors import Forbidden

router = APIRouter(tags=["matching"])

MATCH_BODIES = upload_body({}, json_schema="MatchQuery")


# No Idempotency-Key: matching reads the index and keeps nothing, so a repeat is harmless.
@router.post("/match", openapi_extra=MATCH_BODIES)
async def match(request: Request, ledger: LedgerDep, account: CurrentAccount) -> schemas.MatchOut:
    """Match a suspect copy (uploaded, or its query frame hashes as `reelledger match` sends
    them) against the registered works: the work, the offset of the copy inside it, how much
    of it agrees and how sure the match is, with the work's on-chain registration."""
    if account.role not in matching.MATCH_ROLES:  # before receiving a whole file
        raise Forbidden("only a crawler or a rights holder matches suspect copies")
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        upload = await read_whole_file(request, ledger.settings.data_dir / "uploads", ledger.settings.max_detect_bytes)
        assert upload.path is not None  # read_whole_file refuses a form without a file
        try:
            outcome = await run_in_threadpool(matching.match_file, ledger, account, upload.path)
        finally:
            upload.discard()
    else:
        try:
            body = schemas.MatchQuery.model_validate(await read_json(request))
        except ValidationError as exc:
            raise RequestValidationError(exc.errors()) from None
        query = matching.parse_query(body.frames.model_dump())
        outcome = await run_in_threadpool(matching.match_sequence, ledger.matcher, account, query)
    return present.match(outcome, ledger.chain.addresses.get("WorkRegistry"))
