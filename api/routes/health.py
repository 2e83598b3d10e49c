from fastapi import APIRouter, Response, status

from api import present, schemas
from api.deps import LedgerDep

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Chain, contracts, database and outbox at a glance",
    responses={503: {"model": schemas.Health, "description": "Degraded: the chain or the database does not answer."}},
)
def read_health(ledger: LedgerDep, response: Response) -> schemas.Health:
    report = present.health(ledger.health())
    if report.status != "ok":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return report
