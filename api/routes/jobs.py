"""Media jobs (hashing a registered master, marking a distribution's copy) and their progress."""

from fastapi import APIRouter

from api import present, schemas
from api.deps import CurrentAccount, LedgerDep, RowId
from api.fields import Limit, Offset
from ledger.media_jobs import records

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("")
def list_jobs(ledger: LedgerDep, account: CurrentAccount, offset: Offset = 0, limit: Limit = 50) -> schemas.JobPage:
    """The newest first: the caller's own jobs, everyone's for auditors and admins."""
    rows, total = records.listing(ledger.engine, account, offset=offset, limit=limit)
    return schemas.JobPage(total=total, offset=offset, limit=limit, items=[present.job(r) for r in rows])


@router.get("/{media_job_id}")
def read_job(media_job_id: RowId, ledger: LedgerDep, account: CurrentAccount) -> schemas.JobPublic:
    """One job: its status (queued, running, done, failed), progress, and result or error."""
    return present.job(records.get(ledger.engine, account, media_job_id))
