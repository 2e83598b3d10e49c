"""Queued crawl jobs and their progress, read from the crawl queue's Redis."""

from typing import Any

from fastapi import APIRouter, Path

from api import schemas
from api.deps import CurrentAccount, LedgerDep
from ledger.piracy.crawl_jobs import jobs_for

router = APIRouter(prefix="/crawl/jobs", tags=["piracy"])


@router.get("", response_model=list[schemas.CrawlJob])
def list_crawl_jobs(ledger: LedgerDep, account: CurrentAccount) -> list[dict[str, Any]]:
    """The newest first: a crawler's own jobs, everyone's for auditors and admins."""
    return jobs_for(ledger.settings.redis_url, account)


@router.get("/{job_id}", response_model=schemas.CrawlJob)
def read_crawl_job(
    ledger: LedgerDep,
    account: CurrentAccount,
    job_id: str = Path(pattern=r"^[0-9a-f]{12}$", description="The id `crawl submit` printed."),
) -> dict[str, Any]:
    return jobs_for(ledger.settings.redis_url, account, job_id)[0]
