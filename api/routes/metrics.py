"""Prometheus scrapes the service here. Open like /health (an operator's monitor on their own
network), unless REELLEDGER_METRICS_TOKEN is set: then only that bearer token is let in. The
answer holds counts and route templates, never a key, an address or a URL (ledger.metrics)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import LedgerDep
from ledger.metrics import MEDIA_TYPE, check_token

router = APIRouter(tags=["health"])

token = HTTPBearer(
    auto_error=False,
    scheme_name="MetricsToken",
    description="REELLEDGER_METRICS_TOKEN, when the operator sets one (not an API key).",
)


class PrometheusText(Response):
    media_type = MEDIA_TYPE


@router.get(
    "/metrics",
    response_class=PrometheusText,
    summary="Counters and gauges for Prometheus",
    responses={
        200: {
            "description": "Prometheus's text exposition format 0.0.4: requests by route template, the outbox's "
            "depth and oldest write, chain errors, report rows, job queues, crawl totals.",
            "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    },
)
def read_metrics(
    ledger: LedgerDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(token)]
) -> PrometheusText:
    check_token(ledger.settings.metrics_token, credentials.credentials if credentials else None)
    return PrometheusText(ledger.metrics.render())
