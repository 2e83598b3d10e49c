"""Queued crawl jobs and their progress, read from the crawl queue's Redis."""

from fastapi import APIRouter, Path

from api import present, schemas
from api.deps import CurrentAccount, LedgerDep
from ledger.piracy.crawl_jobs import jobs_for

router = APIRouter(prefix="/crawl/jobs", tags=["piracy"])


@router.get("")
def list_crawl_jobs(ledger: LedgerDep, account: CurrentAccount) -> list[schemas.CrawlJob]:
    """The newest first: a crawler's own jobs, everyone's for auditors and admins."""
    return [present.crawl_job(job) for job in jobs_for(ledger.settings.redis_url, account)]


@router.get("/{job_id}")
def read_crawl_job(
    ledger: LedgerDep,
    account: CurrentAccount,
    job_id: str = Path(pattern=r"^[0-9a-f]{12}$", description="The id `crawl submit` printed."),
) -> schemas.CrawlJob:
    return present.crawl_job(jobs_for(ledger.settings.redis_url, account, job_id)[0])
