from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api import schemas
from api.deps import LedgerDep

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Chain, contracts, database and outbox at a glance",
    response_model=schemas.Health,
    responses={503: {"model": schemas.Health, "description": "Degraded: the chain or the database does not answer."}},
)
def read_health(ledger: LedgerDep) -> JSONResponse:
    report = ledger.health()
    return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)
